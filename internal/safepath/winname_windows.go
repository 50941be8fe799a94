package safepath

// winNames says that Check refuses the names Windows does not take for
// plain files (winNameProblem).
const winNames = true
