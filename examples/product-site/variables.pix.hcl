# Inputs of the product site's asset manifest. Override per run with
# -var 'brand_color=teal' or PIXFORM_VAR_theme=dark.

variable "product" {
  type        = string
  default     = "Lumen"
  description = "Product name, as it appears in prompts."
}

variable "brand_color" {
  type        = string
  default     = "deep indigo"
  description = "Brand colour named in words: the model understands words, not hex codes."
}

variable "theme" {
  type        = string
  default     = "light"
  description = "light or dark: the background of every generated asset."
}

variable "hero_seed" {
  type        = number
  default     = 20240611
  description = "Pin the hero's seed so that redesigns keep the same composition."
}
