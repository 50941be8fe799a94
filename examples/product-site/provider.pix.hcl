provider "imagine" {
  style       = "flux-dev"
  parallelism = 6
  timeout     = "90s"
  max_retries = 5
}
