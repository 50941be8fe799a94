# Loaded automatically: every *.pixvars.hcl file in the directory sets variables.
city = "Lisbon"
