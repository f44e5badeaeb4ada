package authorizer

// Concurrent is an Authorizer whose answers take a network round trip (a
// SubjectAccessReview, say): the engine asks the questions one decision
// needs concurrently, at most Concurrency() at a time, rather than one
// after another. Its Authorize must be safe for concurrent use and must
// return soon after ctx ends.
type Concurrent interface {
	Authorizer
	// Concurrency is the most questions of one decision asked at once.
	Concurrency() int
	// Cached answers a question at once if the answer is at hand (ok),
	// without asking: the engine takes such answers in order before
	// asking anything, so a decision that cached answers settle asks nothing.
	Cached(attrs Attributes) (allowed bool, reason string, ok bool)
}
