package motoserver

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/lambda"
)

// TestStart publishes nothing and lists layers through the real SDK: the
// server answers, and a reset leaves it answering.
func TestStart(t *testing.T) {
	s := Start(t)
	ctx := context.Background()
	c := lambda.NewFromConfig(s.Config())
	out, err := c.ListLayers(ctx, &lambda.ListLayersInput{})
	if err != nil {
		t.Fatalf("ListLayers on %s: %v", s.Endpoint, err)
	}
	if len(out.Layers) != 0 {
		t.Errorf("a new server has layers: %v", out.Layers)
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListLayers(ctx, &lambda.ListLayersInput{}); err != nil {
		t.Fatalf("ListLayers after reset: %v", err)
	}
}
