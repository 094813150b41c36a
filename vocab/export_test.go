package vocab

// OfflineLoader lets tests expand documents with the embedded contexts.
var OfflineLoader = offlineLoader{}
