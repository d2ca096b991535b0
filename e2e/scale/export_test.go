package scale

// ParseStatus and ParseStat expose the /proc parsers to the tests.
var (
	ParseStatus = parseStatus
	ParseStat   = parseStat
)
