layer_arns = {
  "orders" = {
    "arm64" = ["arn:aws:lambda:eu-west-1:123456789012:layer:acme-aws-7a8b9c:2"]
    "x86_64" = ["arn:aws:lambda:eu-west-1:123456789012:layer:acme-aws-1a2b3c:3", "arn:aws:lambda:eu-west-1:123456789012:layer:acme-web-4d5e6f:1"]
  }
  "ping" = {
    "x86_64" = []
  }
}
image_uris = {
  "my-reports" = {
    "x86_64" = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/acme/functions@sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
  }
}
