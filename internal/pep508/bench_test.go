package pep508

import "testing"

const benchMarker = "python_full_version >= '3.10' and python_full_version < '3.13' and platform_machine == 'aarch64' or sys_platform == 'win32'"

func BenchmarkMarkerEvaluate(b *testing.B) {
	m, err := ParseMarker(benchMarker)
	if err != nil {
		b.Fatal(err)
	}
	env, err := TargetEnv("python3.12", "arm64")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !m.Evaluate(env) {
			b.Fatal("false")
		}
	}
}

func BenchmarkMarkerEvaluateExtra(b *testing.B) {
	m, err := ParseMarker("extra == 'socks' or 'dev' in dependency_groups and sys_platform != 'win32'")
	if err != nil {
		b.Fatal(err)
	}
	env, err := TargetEnv("python3.12", "x86_64")
	if err != nil {
		b.Fatal(err)
	}
	env = env.WithExtras("security", "socks").WithGroups("dev")
	b.ReportAllocs()
	for b.Loop() {
		if !m.Evaluate(env) {
			b.Fatal("false")
		}
	}
}

func BenchmarkParseMarker(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMarker(benchMarker); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseRequirement(b *testing.B) {
	for _, s := range []string{
		"requests",
		"requests>=2.31.0",
		"urllib3[socks]>=1.21.1,<3 ; python_version >= '3.8'",
	} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseRequirement(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
