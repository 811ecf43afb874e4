# line-anchors.sed — drops the empty self-link pandoc 2.17 puts on every line
# of highlighted code (<a href="#cb1-1" aria-hidden="true" tabindex="-1">):
# unused by the book, they bloat each page and make the anchor check crawl.
s|<a href="#cb[0-9]*-[0-9]*" aria-hidden="true" tabindex="-1"></a>||g
