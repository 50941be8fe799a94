# pixform quickstart: a handful of images for a small landing page.
# Try: pixform plan, then pixform apply -provider=draft for offline placeholders.

variable "theme" {
  type        = string
  default     = "neon"
  description = "Colour mood of the city scenes."
}

variable "city" {
  type        = string
  description = "The city every scene shows; set in quickstart.pixvars.hcl."
}

locals {
  scene = "a futuristic ${var.city} at night"
}

provider "imagine" {
  style       = "flux-dev"
  parallelism = 4
  timeout     = "120s"
  max_retries = 8
}

image "hero" {
  prompt       = "${local.scene}, ${var.theme} lights reflecting on wet streets"
  aspect_ratio = "16:9"
  seed         = 42
  path         = "assets/hero.png"
}

image "poster" {
  prompt       = "vertical movie poster of ${local.scene}, dramatic sky"
  aspect_ratio = "9:16"
  seed         = 7
  path         = "assets/poster.jpg"
}

image "avatar" {
  prompt = "friendly robot mascot waving, ${var.theme} accents, plain background"
  style  = "anime"
  path   = "assets/avatar.png"
}

image "icon" {
  for_each = {
    home     = "a small house"
    search   = "a magnifying glass"
    settings = "a gear"
  }
  prompt       = "flat minimal icon of ${each.value}, ${var.theme} outline"
  aspect_ratio = "1:1"
  style        = "imagine-turbo"
  path         = "assets/icons/${each.key}.png"
}

# Images made from others: a chain that plan shows and apply walks in
# order. A change to the hero replaces both, and reverting it restores
# them from the local cache.
image "hero_cutout" {
  from      = image.hero
  operation = "remove-background"
  path      = "assets/hero-cutout.png"
}

image "hero_640" {
  from    = image.hero
  resize  = { width = 640 }
  quality = 85
  path    = "assets/hero-640.jpg"
}
