print("stserver")
