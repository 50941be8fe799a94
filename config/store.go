package config

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Store is the evaluated store block: the object storage a team shares
// renders through. Config.Store is nil when no block declares one.
type Store struct {
	// URL is the store's location as written (s3://BUCKET/PREFIX?…,
	// gs://…, azblob://…, file:///DIR). Opening it, and refusing one that
	// carries a secret, is the store's job, not the configuration's.
	URL string
	// DeclRange is the block's header; URLRange the url value's, for a
	// caller that reports a URL the store refuses.
	DeclRange, URLRange hcl.Range
}

// storeSchema is the body of a store block.
func storeSchema() *hcl.BodySchema {
	return &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "url"}}}
}

// declareStore records the store block, refusing a second one.
func (l *loader) declareStore(b *hcl.Block) {
	if l.storeBlock != nil {
		l.errorf(&b.DefRange, "Duplicate store block",
			fmt.Sprintf("A store block was already declared at %s. A working directory has one image store: keep one block.", where(l.storeBlock.DefRange)))
		return
	}
	l.storeBlock = b
}

// evalStore evaluates the store block, if any, into l.store.
func (l *loader) evalStore() {
	b := l.storeBlock
	if b == nil {
		return
	}
	content, diags := b.Body.Content(storeSchema())
	l.diags = append(l.diags, diags...)
	if diags.HasErrors() {
		return
	}
	const example = `url = "s3://my-assets/pixform/site?region=eu-west-1"`
	attr, ok := content.Attributes["url"]
	if !ok {
		l.errorf(&b.DefRange, "Missing store url",
			fmt.Sprintf("A store block needs the store's location: %s (or gs://…, azblob://…, file:///shared/dir). Credentials come from the environment, never from the URL.", example))
		return
	}
	v, ok := l.evalAttr(attr, l.base, scope{place: "the store block"}, cty.String, "")
	if !ok {
		return
	}
	rng := attr.Expr.Range()
	if v.IsNull() || strings.TrimSpace(v.AsString()) == "" {
		l.errorf(&rng, "Missing store url", fmt.Sprintf("The store url is empty. Set it to the store's location: %s.", example))
		return
	}
	u := v.AsString()
	if scheme, _, found := strings.Cut(u, "://"); !found || scheme == "" || strings.ContainsAny(scheme, "/?#") {
		l.errorf(&rng, "Invalid store url",
			fmt.Sprintf("%q names no kind of storage: write s3://BUCKET/PREFIX (S3 and S3-compatible servers), gs://BUCKET/PREFIX, azblob://CONTAINER/PREFIX or file:///DIR.", u))
		return
	}
	l.store = &Store{URL: u, DeclRange: b.DefRange, URLRange: rng}
}
