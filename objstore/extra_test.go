package objstore

// extraBackends are the backends that need a server: S3 through VersityGW.
func extraBackends() map[string]backend { return nil }
