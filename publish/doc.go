// Package publish owns `layers publish`, `layers outputs` and `layers gc`:
// turning the build manifest (.layers/build.json) into Lambda layer
// versions, sharing them, handing image functions to an ImagePublisher
// (package publish/ecr), and writing the outputs file infrastructure code
// reads. It never builds: a missing or stale manifest is an error that
// says to run `layers build`.
//
// # Idempotency
//
// Lambda creates a new version on every PublishLayerVersion, even for the
// same bytes, so every version layers publishes carries its zip's hash in
// its description:
//
//	layers sha256:<64 hex> boto3==1.35.0 botocore==1.35.0 ... (256 characters at most)
//
// Before publishing a layer, publish lists its versions (every page) and
// reuses the newest whose description carries the hash and whose
// GetLayerVersion CodeSha256, runtimes and architectures match. Publishing
// the same build twice creates nothing. PublishLayerVersion is retried by
// publish itself, not the SDK: before each retry it looks for the version
// again, so a call whose response was lost after Lambda acted is not
// repeated. A run killed halfway leaves only whole versions, which the
// rerun finds.
//
// Zips over [publish] inline_max_bytes go to [publish] s3_bucket under
// <s3_prefix>/sha256/<hex>.zip (skipped when the object is there,
// multipart when large) and are published from there.
//
// # Sharing
//
// Each [publish] share_with principal becomes one statement on every
// version used, with a StatementId derived from the principal:
// layers-share-<account id>, layers-share-all for "*", and
// layers-share-<o-org id>. Statements that exist are not added again;
// layers-share-* statements for principals no longer listed are removed;
// statements with other ids are left alone.
//
// # Outputs
//
// When every layer and image resolved, publish writes the outputs file
// ([publish] outputs, default .layers/outputs.json) atomically:
//
//	{
//	  "format": 1, "region": "eu-west-1", "account": "123456789012", "inputs_sha256": "...",
//	  "functions": {
//	    "orders":  {"x86_64": {"runtime": "python3.12", "package_type": "layers",
//	                           "layers": ["arn:aws:lambda:...:layer:acme-boto3-1a2b:3", ...], "image_uri": ""}},
//	    "reports": {"x86_64": {"runtime": "python3.12", "package_type": "image",
//	                           "layers": [], "image_uri": "...dkr.ecr...amazonaws.com/repo@sha256:..."}}
//	  },
//	  "layers": {"acme-boto3-1a2b": {"arn": "...:3", "layer_arn": "...", "version": 3, "sha256": "...",
//	             "code_sha256": "...", "compatible_runtimes": ["python3.12"], "compatible_architectures": ["x86_64"]}}
//	}
//
// A run where some layer failed writes no outputs (infrastructure code
// would otherwise deploy a half-published set) and reports the layers it
// did publish. Outputs.Encode also renders the file as Terraform tfvars,
// shell assignments and SAM parameter overrides.
//
// # gc
//
// GC deletes versions of the project's layers older than the newest N
// that the outputs file does not reference.
//
// AWS access goes through LoadAWSConfig (shared with publish/ecr): the
// standard credential chain, --profile and --region over [publish], and a
// retry policy for throttling, 5xx and dropped connections.
package publish
