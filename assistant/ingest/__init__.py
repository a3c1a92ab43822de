"""Documents in: file formats, OCR, front matter, chunking into answer units."""
