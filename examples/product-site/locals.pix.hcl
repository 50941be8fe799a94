locals {
  background = var.theme == "dark" ? "charcoal background" : "soft off-white background"
  house_style = join(", ", [
    "clean product illustration",
    "${var.brand_color} accents",
    local.background,
    "generous negative space",
  ])

  features = {
    sync = {
      title = "Instant sync"
      motif = "two devices linked by a glowing arc"
    }
    privacy = {
      title = "Private by design"
      motif = "a shield folded from paper"
    }
    offline = {
      title = "Works offline"
      motif = "a lantern lighting a small desk"
    }
    teams = {
      title = "Built for teams"
      motif = "four chairs around a round table"
    }
  }

  pages = {
    home    = "the ${var.product} app on a laptop and a phone"
    pricing = "three stacked cards rising like stairs"
    blog    = "an open notebook with sketches"
    about   = "a small team laughing in a bright studio"
  }
}
