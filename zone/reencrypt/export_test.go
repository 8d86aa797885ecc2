package reencrypt

// ComparePaths exposes the walk order to the tests.
var ComparePaths = comparePaths
