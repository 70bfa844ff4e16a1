// Package testkit is the home of the real parts the tests run against, one
// subpackage each: the Docker engine and stand-in images (dockertest), the
// AWS emulator (motoserver), a container registry (registrytest), the file
// trees tests write (testfs) and golden files (golden). Only tests import
// them.
package testkit
