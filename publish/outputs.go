package publish

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/layers-dev/layers/internal/atomicfile"
)

// OutputsFormat is the outputs.json format this layers writes and reads.
const OutputsFormat = 1

// Outputs is .layers/outputs.json: what infrastructure code needs to
// attach the published layers and images. Maps are keyed by name so that
// Terraform reads them without searching lists:
//
//	local.layers.functions["orders"]["x86_64"].layers
type Outputs struct {
	Format  int    `json:"format"`
	Region  string `json:"region"`
	Account string `json:"account"`
	// InputsSHA256 is the build manifest's, tying the outputs to a build.
	InputsSHA256 string `json:"inputs_sha256"`
	// Functions are keyed by function name, then architecture.
	Functions map[string]map[string]FunctionOutput `json:"functions"`
	// Layers are keyed by layer name.
	Layers map[string]LayerOutput `json:"layers"`
}

// FunctionOutput is how one function is deployed on one architecture.
type FunctionOutput struct {
	Runtime     string `json:"runtime"`
	PackageType string `json:"package_type"` // "layers" or "image"
	// Layers are the layer version ARNs to attach, in order; empty, not
	// null, for an image.
	Layers []string `json:"layers"`
	// ImageURI is repository@sha256:digest for an image, "" otherwise.
	ImageURI string `json:"image_uri"`
}

// LayerOutput is one published layer version.
type LayerOutput struct {
	ARN                     string   `json:"arn"`       // the version's ARN, ending in :N
	LayerARN                string   `json:"layer_arn"` // without the version, for IAM policies
	Version                 int64    `json:"version"`
	SHA256                  string   `json:"sha256"`
	CodeSha256              string   `json:"code_sha256"`
	CompatibleRuntimes      []string `json:"compatible_runtimes"`
	CompatibleArchitectures []string `json:"compatible_architectures"`
}

// ErrNoOutputs is returned by ReadOutputs when nothing was published yet.
var ErrNoOutputs = errors.New("no outputs: run `layers publish` first")

// ReadOutputs reads the outputs file at path.
func ReadOutputs(path string) (*Outputs, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s: %w", path, ErrNoOutputs)
	}
	if err != nil {
		return nil, fmt.Errorf("read outputs: %w", err)
	}
	var o Outputs
	if err := json.Unmarshal(data, &o); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if o.Format != OutputsFormat {
		return nil, fmt.Errorf("%s: format %d, this layers reads format %d: run `layers publish`", path, o.Format, OutputsFormat)
	}
	return &o, nil
}

// WriteOutputs writes o to path atomically, creating its folder.
func WriteOutputs(path string, o *Outputs) error {
	var buf bytes.Buffer
	if err := o.Encode(&buf, "json"); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write outputs: %w", err)
	}
	if err := atomicfile.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write outputs: %w", err)
	}
	return nil
}

// Formats are the formats Encode writes.
var Formats = []string{"json", "tfvars", "env", "sam"}

// Encode writes o to w in format:
//
//   - json: outputs.json itself.
//   - tfvars: two Terraform variables, layer_arns (map(map(list(string))):
//     function -> architecture -> ARNs) and image_uris
//     (map(map(string))).
//   - env: shell assignments, LAYERS_<FUNCTION>_<ARCH>_LAYERS=arn,arn and
//     LAYERS_<FUNCTION>_<ARCH>_IMAGE_URI=uri (names upper-cased, other
//     characters as _), for `source`, $GITHUB_ENV or a SAM
//     CommaDelimitedList parameter.
//   - sam: CloudFormation parameter overrides, <Function><Arch>Layers=arn,arn
//     and <Function><Arch>ImageUri=uri (alphanumeric CamelCase), one a line,
//     for `sam deploy --parameter-overrides $(layers outputs --format sam)`.
func (o *Outputs) Encode(w io.Writer, format string) error {
	var buf bytes.Buffer
	switch format {
	case "json":
		enc := json.NewEncoder(&buf)
		enc.SetIndent("", "  ")
		if err := enc.Encode(o); err != nil {
			return err
		}
	case "tfvars":
		o.tfvars(&buf)
	case "env":
		if err := o.assignments(&buf, envName); err != nil {
			return err
		}
	case "sam":
		if err := o.assignments(&buf, samName); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown outputs format %q (want one of %s)", format, strings.Join(Formats, ", "))
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func (o *Outputs) tfvars(w io.Writer) {
	// One map per variable, each function in the map of its package type.
	block := func(variable string, value func(f FunctionOutput) (string, bool)) {
		fmt.Fprintf(w, "%s = {\n", variable)
		for _, fn := range slices.Sorted(maps.Keys(o.Functions)) {
			var lines []string
			for _, arch := range slices.Sorted(maps.Keys(o.Functions[fn])) {
				if v, ok := value(o.Functions[fn][arch]); ok {
					lines = append(lines, fmt.Sprintf("    %s = %s\n", strconv.Quote(arch), v))
				}
			}
			if lines != nil {
				fmt.Fprintf(w, "  %s = {\n%s  }\n", strconv.Quote(fn), strings.Join(lines, ""))
			}
		}
		fmt.Fprintln(w, "}")
	}
	block("layer_arns", func(f FunctionOutput) (string, bool) {
		quoted := make([]string, len(f.Layers))
		for i, arn := range f.Layers {
			quoted[i] = strconv.Quote(arn)
		}
		return "[" + strings.Join(quoted, ", ") + "]", f.PackageType != "image"
	})
	block("image_uris", func(f FunctionOutput) (string, bool) {
		return strconv.Quote(f.ImageURI), f.PackageType == "image"
	})
}

// assignments writes one name=value line per function and architecture,
// naming them with name; two functions whose names collide are an error
// rather than one silently overwriting the other.
func (o *Outputs) assignments(w io.Writer, name func(fn, arch, what string) string) error {
	seen := map[string]string{}
	for _, fn := range slices.Sorted(maps.Keys(o.Functions)) {
		for _, arch := range slices.Sorted(maps.Keys(o.Functions[fn])) {
			f := o.Functions[fn][arch]
			what, value := "layers", strings.Join(f.Layers, ",")
			if f.PackageType == "image" {
				what, value = "image_uri", f.ImageURI
			}
			n := name(fn, arch, what)
			if other, ok := seen[n]; ok {
				return fmt.Errorf("functions %s and %s both map to the variable %s", other, fn, n)
			}
			seen[n] = fn
			fmt.Fprintf(w, "%s=%s\n", n, value)
		}
	}
	return nil
}

func envName(fn, arch, what string) string {
	up := func(s string) string {
		return strings.Map(func(r rune) rune {
			switch {
			case r >= 'a' && r <= 'z':
				return r - 'a' + 'A'
			case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
				return r
			}
			return '_'
		}, s)
	}
	return "LAYERS_" + up(fn) + "_" + up(arch) + "_" + up(what)
}

func samName(fn, arch, what string) string {
	camel := func(s string) string {
		var b strings.Builder
		upper := true
		for _, r := range s {
			switch {
			case r >= 'a' && r <= 'z':
				if upper {
					r = r - 'a' + 'A'
				}
			case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
			default:
				upper = true
				continue
			}
			b.WriteRune(r)
			upper = false
		}
		return b.String()
	}
	return camel(fn) + camel(arch) + camel(what)
}
