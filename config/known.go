package config

import "github.com/zclconf/go-cty/cty"

// whollyKnown is v.IsWhollyKnown() without iterating an object's
// attributes in sorted order (cty sorts their names on every iteration,
// which for a for_each over an object of thousands of keys costs more
// than the rest of the check): whether every attribute is wholly known
// does not depend on the order they are looked at in.
func whollyKnown(v cty.Value) bool {
	if v.IsMarked() || !v.IsKnown() || v.IsNull() || !v.Type().IsObjectType() {
		return v.IsWhollyKnown()
	}
	for name := range v.Type().AttributeTypes() {
		if !whollyKnown(v.GetAttr(name)) {
			return false
		}
	}
	return true
}
