package pep508_test

import (
	"fmt"

	"github.com/layers-dev/layers/internal/pep508"
)

func ExampleMarker_Evaluate() {
	r, err := pep508.ParseRequirement("uvloop>=0.15 ; sys_platform != 'win32' and platform_machine == 'aarch64' and python_version >= '3.10'")
	if err != nil {
		panic(err)
	}
	for _, arch := range []string{"x86_64", "arm64"} {
		env, err := pep508.TargetEnv("python3.12", arch)
		if err != nil {
			panic(err)
		}
		fmt.Println(arch, r.Name, r.Marker.Evaluate(env))
	}
	// Output:
	// x86_64 uvloop false
	// arm64 uvloop true
}

func ExampleMarker_Canonical() {
	m, err := pep508.ParseMarker("os.name=='posix'and(extra=='Foo_Bar')")
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Canonical())
	// Output: os_name == "posix" and extra == "foo-bar"
}
