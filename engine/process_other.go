//go:build !unix

package engine

// processExists cannot check here, so only the age rule removes leftovers.
func processExists(int) bool { return true }
