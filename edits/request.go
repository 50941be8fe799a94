package edits

// Request is one edit to render: the operation and its fields. A field
// that the operation does not take is left at its zero value (Check says
// which); zero values are not sent.
type Request struct {
	Op          string
	Prompt      string // generative-fill, ai-background, transparent
	AspectRatio string // transparent only ("" = not sent: the endpoint's 1:1)
	Seed        int64  // ai-background, transparent (0 = not sent)
	Image       []byte // the source image's encoded bytes (PNG or JPEG)
	Mask        []byte // generative-fill: white = fill, black = keep
	Addr        string // the image's address, for draft's label and logs
}
