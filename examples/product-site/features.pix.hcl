# One square icon per feature tile, named after the feature's key.

image "feature_icon" {
  for_each     = local.features
  prompt       = "icon for \"${each.value.title}\": ${each.value.motif}, flat vector, ${local.house_style}"
  aspect_ratio = "1:1"
  style        = "imagine-turbo"
  path         = "assets/features/${each.key}.png"
}

# Larger illustrations beside each feature's paragraph.
image "feature_art" {
  for_each     = local.features
  prompt       = "${each.value.motif}, editorial illustration, ${local.house_style}"
  aspect_ratio = "4:3"
  seed         = parseint(substr(sha256(each.key), 0, 7), 16) + 1
  path         = "assets/features/${each.key}-art.jpg"
}
