# book.mk — the book: HTML pages, a one-page HTML, EPUB and PDF from chapters/.
#
#   make book        build/book/: index.html, one NN-slug.html per chapter,
#                    book.html, book.epub, book.pdf (weasyprint, no TeX)
#   make book-html   build/book/: the HTML pages alone (pandoc is all it needs)
#   make book-check  build it, then read it like a reader would (book/check.sh)
#   make book-student  build/book-student/: the students' edition (HTML pages and
#                    the one-page book), whose code from solutions/ is cut from
#                    the starter code in labs/ instead (BOOK_LABS=dir: from dir);
#                    make handout ships it, cut from the starters it generates
#
# Included by the top-level Makefile. The code shown is pulled from the source
# files by book/include-code.lua; each timeline is drawn (book/timeline.awk)
# from a real run of solutions/NN-slug/demo.c --csv. The chapters are every
# chapters/NN-slug.md; BOOK_CHAPTERS=... sets another list (paths, in order).

BOOK := build/book
# student: quote labs/ where the chapters name solutions/ (read by book/*.lua).
BOOK_EDITION ?=
export BOOK_EDITION
# Where the students' edition reads labs/ from: make handout sets it to the
# starters it generates from solutions/ (a solved labs/ never reaches its book).
BOOK_LABS ?= labs
export BOOK_LABS
BOOK_CHAPTERS ?= $(sort $(wildcard chapters/[0-9][0-9]-*.md))
BOOK_NAMES := $(basename $(notdir $(BOOK_CHAPTERS)))
BOOK_DEMOS := $(patsubst solutions/%/demo.c,%,$(wildcard solutions/[0-9][0-9]-*/demo.c))
BOOK_SVGS := $(BOOK_DEMOS:%=$(BOOK)/img/%-timeline.svg)
BOOK_PAGES := $(BOOK)/index.html $(BOOK_NAMES:%=$(BOOK)/%.html)
# Anything a page may show: the chapters, the build's files, the sources.
BOOK_INPUTS := $(BOOK_CHAPTERS) $(wildcard book/*.lua book/*.html book/*.yaml book/*.md book/*.sed book/*.txt) \
	$(wildcard solutions/*/*.[ch] labs/*/*.[ch] $(BOOK_LABS)/*/*.[ch] helpers/*.[ch] grader/*.[ch] grader/report/*.[ch] tests/*/*.c)
BOOK_PANDOC := pandoc -d book/pandoc.yaml -M book-chapters="$(BOOK_CHAPTERS)" -M book-img-dir=$(BOOK)/img
BOOK_HTML := $(BOOK_PANDOC) -t html5 --template=book/page.html
# Writes the HTML of $(1) with pandoc options $(2) into $@.
book_html = $(BOOK_HTML) $(2) -o $@.tmp $(1) && sed -f book/line-anchors.sed $@.tmp > $@ && rm $@.tmp

vpath %.md $(sort $(dir $(BOOK_CHAPTERS)))

.PHONY: book
book: deps-dev $(BOOK_PAGES) $(BOOK)/book.html $(BOOK)/book.epub $(BOOK)/book.pdf ## the book: HTML, EPUB, PDF in build/book/
	@echo "book: $(BOOK)/index.html ($(words $(BOOK_NAMES)) chapters), book.html, book.epub, book.pdf"

.PHONY: book-check
book-check: book book-student ## build the book and check its code, links, EPUB and pages
	@BOOK_CHAPTERS="$(BOOK_CHAPTERS)" BOOK_STUDENT=$(BOOK_STUDENT) book/check.sh $(BOOK)

# The demos link the debug libraries; built once, before any demo runs.
.PHONY: book-libs
book-libs:
	@$(MAKE) --no-print-directory -s MODE=debug libs

# One trace per lab with a demo: rerun when the lab or the helpers change.
define book_demo
$(BOOK)/csv/$(1).csv: $(wildcard solutions/$(1)/*.[ch]) $(wildcard helpers/*.[ch]) book/demo-csv.sh | book-libs
	@book/demo-csv.sh $(1) $$@
endef
$(foreach lab,$(BOOK_DEMOS),$(eval $(call book_demo,$(lab))))

$(BOOK)/img/%-timeline.svg: $(BOOK)/csv/%.csv book/timeline.awk
	@mkdir -p $(@D)
	@awk -v title="Lab $*" -f book/timeline.awk $< > $@.tmp && mv $@.tmp $@

$(BOOK)/book.css: book/book.css
	@mkdir -p $(@D)
	@cp $< $@

# Pages only need the pictures to exist: order-only.
$(BOOK)/index.html: book/intro.md $(BOOK_INPUTS) | $(BOOK)/book.css $(BOOK_SVGS)
	@$(call book_html,$<,-M book-mode=index -M book-index)

$(BOOK)/%.html: %.md $(BOOK_INPUTS) | $(BOOK)/book.css $(BOOK_SVGS)
	@$(call book_html,$<,-M book-mode=page)

$(BOOK)/book.html: book/intro.md $(BOOK_INPUTS) | $(BOOK)/book.css $(BOOK_SVGS)
	@$(call book_html,$<,-M book-mode=single -M book-single --toc --toc-depth=2)

$(BOOK)/book.epub: book/intro.md book/epub.css $(BOOK_INPUTS) | $(BOOK_SVGS)
	@$(BOOK_PANDOC) -M book-mode=single -t epub3 --css=book/epub.css --toc --toc-depth=2 \
		--epub-chapter-level=1 --resource-path=$(BOOK):. -o $@ $<

$(BOOK)/book.pdf: $(BOOK)/book.html $(BOOK)/book.css $(BOOK_SVGS)
	@weasyprint -q $< $@.tmp && mv $@.tmp $@

# The students' edition: HTML only, into its own folder; the pictures are the
# same runs of the reference demos (a trace shows no code).
.PHONY: book-student book-html
BOOK_STUDENT ?= build/book-student
book-student: deps-pages ## the students' edition of the book (labs' code, no solutions): build/book-student/
	@$(MAKE) --no-print-directory -s BOOK=$(BOOK_STUDENT) BOOK_EDITION=student book-html > /dev/null
	@echo "book-student: $(BOOK_STUDENT)/index.html ($(words $(BOOK_NAMES)) chapters), book.html"

book-html: deps-pages $(BOOK_PAGES) $(BOOK)/book.html ## the book's HTML pages only (needs just pandoc): build/book/
	@echo "book-html: $(BOOK)/index.html ($(words $(BOOK_NAMES)) chapters), book.html"
