package vocab

// OfflineLoader lets tests expand documents with the embedded contexts.
var OfflineLoader = offlineLoader{}

// DefaultRegistryForTest exposes the core registry with default limits.
func DefaultRegistryForTest() *Registry { return defaultRegistry() }
