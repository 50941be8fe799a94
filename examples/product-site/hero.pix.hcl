# The landing page hero and its mobile crop.

image "hero" {
  prompt       = "${var.product} hero: ${local.pages.home}, ${local.house_style}"
  aspect_ratio = "16:9"
  seed         = var.hero_seed
  path         = "assets/hero/hero-wide.png"
}

image "hero_mobile" {
  prompt       = "${var.product} hero, portrait crop: ${local.pages.home}, ${local.house_style}"
  aspect_ratio = "9:16"
  seed         = var.hero_seed
  path         = "assets/hero/hero-tall.jpg"
}
