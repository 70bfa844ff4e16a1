package resolver

import (
	"fmt"

	"github.com/layers-dev/layers/internal/diag"
)

// readError is the error of reading the input file rel: a refused file
// (outside the repository, not a regular file, too large) is already a
// *diag.Error naming it; an I/O failure gets rel for context.
func readError(rel string, err error) error {
	if diag.IsInput(err) {
		return err
	}
	return fmt.Errorf("read %s: %w", rel, err)
}
