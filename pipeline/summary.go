package pipeline

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/layers-dev/layers/internal/bytesize"
)

// WriteSummary writes the table `layers build` ends with: every layer with
// its sizes, then unit cache hits and the time taken.
func (r *BuildResult) WriteSummary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TARGET\tLAYER\tPACKAGES\tZIPPED\tUNZIPPED\tFUNCTIONS")
	for _, t := range r.Manifest.Targets {
		for _, l := range t.Layers {
			fmt.Fprintf(tw, "%s/%s\t%s\t%d\t%s\t%s\t%d\n", t.Runtime, t.Architecture, l.Name, len(l.Packages),
				bytesize.Decimal(l.ZippedBytes), bytesize.Decimal(l.UnzippedBytes), len(l.Functions))
		}
		for _, img := range t.Images {
			fmt.Fprintf(tw, "%s/%s\t(image) %s\t%d\t-\t%s\t1\n", t.Runtime, t.Architecture, img.Function, len(img.Packages),
				bytesize.Decimal(img.UnzippedBytes))
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, t := range r.Manifest.Targets {
		for _, img := range t.Images {
			if img.Registry != "" {
				fmt.Fprintf(w, "container image %s (%s/%s): in the registry, %s, not built here; why: %s\n", img.Function, t.Runtime, t.Architecture,
					img.Registry, img.Reason)
				continue
			}
			fmt.Fprintf(w, "container image %s (%s/%s): %s, %s with its base; why: %s\n", img.Function, t.Runtime, t.Architecture,
				img.Tag, bytesize.Decimal(img.ImageBytes), img.Reason)
		}
	}
	if err := r.writeByteCode(w); err != nil {
		return err
	}
	if err := r.writeEngines(w); err != nil {
		return err
	}
	images := ""
	if r.ImagesBuilt+r.ImagesReused > 0 {
		images = fmt.Sprintf("; images: %d built, %d unchanged", r.ImagesBuilt, r.ImagesReused)
	}
	if r.ImagesInRegistry > 0 {
		images += fmt.Sprintf("; images: %d in the registry", r.ImagesInRegistry)
	}
	if r.Remote != "" {
		s := r.RemoteStats
		fmt.Fprintf(w, "remote cache %s: %d units from it, %s downloaded; %d objects uploaded, %s\n", r.Remote, r.UnitsRemote,
			bytesize.Decimal(s.Downloaded), s.Uploads, bytesize.Decimal(s.Uploaded))
	}
	_, err := fmt.Fprintf(w, "units: %s, %s pruned; layers: %d written, %d unchanged%s; %s in %s\n",
		unitCounts(r.UnitsBuilt, r.UnitsCached), bytesize.Decimal(r.SavedBytes),
		r.LayersWritten, r.LayersReused, images, r.ManifestPath, r.Took.Round(time.Millisecond))
	return err
}

// unitCounts says how many units were built and how many came from the
// cache; a build with no units has no hit rate.
func unitCounts(built, cached int) string {
	if built+cached == 0 {
		return "none"
	}
	return fmt.Sprintf("%d built, %d from cache (%.0f%% hits)", built, cached, 100*float64(cached)/float64(built+cached))
}
