// Package fakeapi is an in-process fake of the Imagine (Vyro) text-to-image
// API and its edit endpoints, for tests and benchmarks. It speaks the vendor's format exactly: a
// multipart POST with prompt, style, aspect_ratio and seed, a bearer token,
// image bytes on success and the vendor's JSON error schema
// {"status":"error","code":"<code>","error":"<name>","message":"<text>"}
// on failure (code a string, or a number with Config.CodeAsNumber).
//
// A request is checked in this order, and the first failing check answers:
//
//  1. bearer token: missing → 400/1000; expired (starts with "expired:" or
//     listed in Config.ExpiredTokens) → 406/1002; not Config.Token → 401/1001
//  2. form: missing prompt, unknown or missing style, bad aspect_ratio, seed
//     not an integer in 1..4294967295 → 400/1100
//  3. concurrency: more than Config.MaxInFlight requests in flight → 429/1202
//  4. rate: the rate limit (Config.RatePerSec, Config.Burst, Config.Shape) refuses → 429/1202
//  5. the next scripted fault of Config.Faults, if any
//  6. faults written into the prompt (below)
//  7. credits: fewer left than the style costs → 402/1101
//  8. latency (Config.Latency, plus slow= faults), then Server.Hold's hold
//     until Server.Release, honouring the client giving up
//  9. success: a small PNG (or JPEG) of the right aspect ratio, 64 px on its
//     short side, deterministic from prompt, style and seed
//
// 429s carry a Retry-After header per Config.RetryAfter: whole seconds until
// the bucket has a token again (the default), an HTTP date, none, or a huge
// 99999 seconds.
//
// # Prompt faults
//
// A prompt may carry fault tags anywhere in its text, so that one image of a
// batch misbehaves while the rest succeed. Attempts are counted per prompt,
// over requests that passed steps 1 to 4.
//
//	[fault:503x2]   503/1200 on the first 2 attempts, then success
//	[fault:503]     503/1200 on the first attempt only
//	[fault:1100]    400/1100 on every attempt (codes that a retry cannot
//	                fix, 1000-1101 and 1206, default to every attempt)
//	[fault:1204x*]  504/1204 on every attempt ("x*" means always)
//	[fault:truncate] the first attempt's body is cut short (Content-Length
//	                announces more, then the connection closes)
//	[fault:hang]    the first attempt never answers, until the client gives up
//	[fault:reset]   the first attempt's connection is reset (TCP RST)
//	[fault:json200] the first attempt answers 200 with a JSON body
//	[fault:slow=2s] every attempt takes 2s longer (a Go duration)
//
// Hostile answers, each on the first attempt unless "xN" says otherwise:
//
//	[fault:echo]       200 with Content-Type text/<token>, the token in
//	                   Retry-After, Location and X-Echo, and as the body
//	[fault:echo429]    429 with the token as Retry-After and in every field
//	                   of the JSON error, and in the Content-Type's charset
//	[fault:bomb]       200 with a small PNG declaring 30000×30000 pixels
//	[fault:tiny]       200 with a 1×1 PNG
//	[fault:wrongratio] 200 with a 100×300 PNG, whatever the aspect ratio
//	[fault:huge]       200 with a PNG-headed body of up to 256 MiB
//	[fault:redirect]   307 to the same path, with a query, on another port:
//	                   a second server that Server.Elsewhere counts
//	[fault:stall]      200 with half the image, then silence until the
//	                   client gives up
//	[format:jpeg]   the image is a JPEG
//
// A fault KIND is a vendor code (1000-1007, 1100, 1101, 1200-1206, 1300),
// an HTTP status standing for its usual code (429→1202, 500→1300,
// 503→1200, 504→1204), one of truncate, hang, reset, json200, or a
// hostile answer. "xN"
// applies it to the first N attempts, "x*" to all. Of several tags the first
// that covers the attempt applies.
//
// # The other endpoints
//
// Beside text to image (Server.URL, ".../v2/image/generations"), the fake
// serves the vendor's edit endpoints, routed by how the path ends (see
// package edits): /image/background/remover, /image/enhance,
// /image/edits/generative-fill, /image/generations/ai-background and
// /image/generations/transparent. Any other path is text to image, except
// /image/edits/ai-resize and the retouch paths, which answer 503/1206.
// Their step 2 checks the endpoint's form: every field it requires, files
// as files, no field the vendor does not name for it (stricter than the
// vendor may be, so that a field pixform should not send fails a test),
// images that decode within MaxEditPixels, a mask of the image's
// dimensions; any failure answers 400/1100. Steps 3 to 8 are the same,
// prompt faults included (in the prompt of those that take one); an edit
// costs EditCost. The answers: remove-background, the source cut out to an
// ellipse with real alpha (PNG); enhance, the source at twice its size;
// generative-fill, the source with the mask's white region tinted by the
// prompt; ai-background, the source over an opaque gradient from the
// prompt and seed; transparent, a disc on a transparent background at the
// aspect ratio (PNG). Stats.ByEndpoint counts requests per endpoint.
//
// Server wraps an httptest.Server for tests; ListenAndServe and Serve run the
// same API on a real listener for benchmarks, and cmd/fakeapi is a
// command-line front end to them.
package fakeapi
