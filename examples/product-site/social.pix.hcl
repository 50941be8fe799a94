# Open Graph / Twitter cards, one per page (shown at 1200x630; 16:9 is the
# nearest ratio the API renders).

image "social_card" {
  for_each     = local.pages
  prompt       = "social share card for the ${title(each.key)} page of ${var.product}: ${each.value}, ${local.house_style}, no text"
  aspect_ratio = "16:9"
  path         = "assets/social/${each.key}.png"
}

# Team portraits for the about page, three takes to choose from.
image "team_photo" {
  count        = 3
  prompt       = "candid photo of a small product team at work, take ${count.index + 1}, natural light"
  aspect_ratio = "3:2"
  style        = "realistic"
  seed         = 1000 + count.index
  path         = "assets/about/team-${count.index}.jpg"
}
