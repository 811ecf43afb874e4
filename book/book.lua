--[[ book.lua — turns chapters into the book's pages (runs before include-code.lua).

Metadata (set by mk/book.mk):
  book-mode       page: one chapter per page (the input is the chapter);
                  index: the contents page (the input is book/intro.md);
                  single: the whole book in one document, for book.html,
                  EPUB and PDF (input book/intro.md, chapters appended here);
                  markdown: the input chapter's Markdown as the handout
                  ships it (tools/handout.sh; -t markdown).
  book-chapters   every chapter file, in order, separated by spaces.
  book-img-dir    where the timeline SVGs are (build/book/img); each demo's
                  terminal output is beside it, in ../csv/LAB.log.

For every chapter this filter
  - checks it opens with `# Title {#NN-slug}`, NN-slug being its file name;
  - numbers its headers (chapter 1, sections 1.1, 1.1.1; `.unnumbered` skips;
    chapters 90 and up are appendices A, B, ...);
  - adds the lab box under the title (the lab's folder, `make grade LAB=NN`),
    when tests/NN-slug/ exists;
  - keeps `::: solution` divs (a labelled box) in the full edition and
    drops them from the students' edition;
  - turns `::: {.grader-table}` divs into the lab's contract clauses and
    table of graded tests (tools/clauses.sh --markdown);
  - turns `::: {.demo-output lab=LAB}` divs into lines of the output of
    that lab's demo, from the run the timelines are drawn from, and
    `[text]{.run key=KEY}` spans into the value KEY has in that run
    (book/run-values.txt says where to read it); with min= or max=, the
    text stays and the value must lie in the range (a bound may be another
    key, or N*KEY: "max=5*srv.unloaded.p99"). A missing log, line
    or key, or a value out of its range, stops the build;
  - turns `::: {.timeline}` divs into the figure of the lab's demo trace
    (img/LAB-timeline.svg, drawn by book/timeline.awk from a real run); a
    chapter without one gets its own lab's timeline at the end of its lab
    section, and a note on stderr;
  - resolves cross-references: `#id` goes to the page that holds id (this
    page first), `NN-slug.md#x` to `NN-slug.html#x` (in single mode both
    become `#x`); ids defined by several chapters are renamed NN-slug--id in
    single mode. Links to repository files become plain text with the path,
    links to a chapter the book leaves out (NN-slug.md, #NN-slug) their text.
A link it cannot resolve is left alone with a warning: the link check of
make book-check reports it. A malformed chapter or a missing timeline stops
the build (pandoc exits 83).
]]

local mode = "page"
local img_dir = "build/book/img"
local chapters = {} -- in book order: { name, path, number, title, sections, ids }
local by_name = {}
local owners = {} -- id -> list of chapter names defining it
local current_chapter -- the chapter render_chapter is working on

local function stringify(x)
  return pandoc.utils.stringify(x)
end

local function warn(msg)
  io.stderr:write("book: " .. msg .. "\n")
end

local function exists(path)
  local f = io.open(path, "r")
  if f then
    f:close()
  end
  return f ~= nil
end

local function read_file(path)
  local f = io.open(path, "r")
  if f == nil then
    error("book: cannot read " .. path, 0)
  end
  local text = f:read("a")
  f:close()
  return text
end

------------------------------------------------------------------ header ids

-- pandoc 2.17 takes `{#id}` only when id starts with a letter, so
-- `# Title {#00-the-loop}` reaches us as text. Takes such a trailing
-- `{#id .class}` back out of a header's text into its attributes.
local function fix_header_attrs(h)
  local c = h.content
  local k = #c
  while k >= 1 and not (c[k].t == "Str" and c[k].text:sub(1, 1) == "{") do
    if c[k].t ~= "Str" and c[k].t ~= "Space" then
      return nil
    end
    k = k - 1
  end
  if k < 1 then
    return nil
  end
  local text = pandoc.utils.stringify(pandoc.List({ table.unpack(c, k) }))
  local inner = text:match("^{(.*)}$")
  if inner == nil or not inner:match("^%s*#%d") then
    return nil
  end
  for word in inner:gmatch("%S+") do
    if word:sub(1, 1) == "#" then
      h.identifier = word:sub(2)
    elseif word:sub(1, 1) == "." then
      h.classes:insert(word:sub(2))
    elseif word == "-" then
      h.classes:insert("unnumbered")
    end
  end
  while #c >= k do
    c:remove()
  end
  while #c > 0 and c[#c].t == "Space" do
    c:remove()
  end
  return h
end

local function fix_ids(blocks)
  return pandoc.walk_block(pandoc.Div(blocks), { Header = fix_header_attrs }).content
end

------------------------------------------------------------------ the chapters

local ID_TYPES = { "Header", "Div", "Span", "CodeBlock", "Code", "Link", "Image" }

-- Calls fn(element) for every element of blocks that can carry an id.
local function each_id_element(blocks, fn)
  local filter = {}
  for _, t in ipairs(ID_TYPES) do
    filter[t] = function(el)
      if el.identifier ~= "" then
        return fn(el)
      end
    end
  end
  return pandoc.walk_block(pandoc.Div(blocks), filter).content
end

local function load_chapter(path)
  local name = path:match("([^/]+)%.md$")
  local doc = pandoc.read(read_file(path), "markdown")
  doc.blocks = fix_ids(doc.blocks)
  local h1 = doc.blocks[1]
  if not (h1 and h1.t == "Header" and h1.level == 1 and h1.identifier == name) then
    error("book: " .. path .. " must begin with `# Title {#" .. name .. "}`", 0)
  end
  -- Chapters 90 and up are appendices, lettered A, B, ...: no lab, no grader.
  local nn = tonumber(name:sub(1, 2))
  local ch = { name = name, path = path, number = nn >= 90 and string.char(65 + nn - 90) or tostring(nn),
               blocks = doc.blocks, ids = {}, sections = {} }
  each_id_element(doc.blocks, function(el)
    if not ch.ids[el.identifier] then
      ch.ids[el.identifier] = true
      owners[el.identifier] = owners[el.identifier] or {}
      table.insert(owners[el.identifier], name)
    end
  end)
  return ch
end

local function load_chapters(list)
  for path in list:gmatch("%S+") do
    local ch = load_chapter(path)
    chapters[#chapters + 1] = ch
    by_name[ch.name] = ch
    ch.index = #chapters
  end
end

------------------------------------------------------------------ numbering

-- Numbers the top-level headers of one chapter in place, and records its
-- title and level-2 sections (with numbers) for navigation.
local function number_headers(ch, blocks)
  local s2, s3 = 0, 0
  for _, b in ipairs(blocks) do
    if b.t == "Header" and b.level <= 3 and not b.classes:includes("unnumbered") then
      local label
      if b.level == 1 then
        label = tostring(ch.number)
      elseif b.level == 2 then
        s2, s3 = s2 + 1, 0
        label = ch.number .. "." .. s2
      else
        s3 = s3 + 1
        label = ch.number .. "." .. s2 .. "." .. s3
      end
      b.content:insert(1, pandoc.Space())
      b.content:insert(1, pandoc.Span({ pandoc.Str(label) }, { class = "header-section-number" }))
    end
    if b.t == "Header" and b.level == 1 then
      ch.title = b.content
    elseif b.t == "Header" and b.level == 2 then
      table.insert(ch.sections, { id = b.identifier, title = b.content })
    end
  end
end

------------------------------------------------------------------ lab box

-- BOOK_EDITION=student in the environment (mk/book.mk exports it); the
-- include-code filter reads the same variable.
local student_edition = os.getenv("BOOK_EDITION") == "student"

local function lab_box(ch)
  if not exists("tests/" .. ch.name) then
    return nil
  end
  local nn = ch.name:sub(1, 2)
  local function code(s) return pandoc.Code(s) end
  local function text(s) return pandoc.Str(s) end
  local inlines = {
    pandoc.Strong({ text("Lab " .. nn) }), text(" · "), text("your code: "),
    code("labs/" .. ch.name .. "/"), text(" · grade it: "), code("make grade LAB=" .. nn),
    text(" · run the demo: "), code("make run LAB=" .. nn),
  }
  -- The students' edition ships without the reference solutions.
  if not student_edition then
    table.insert(inlines, text(" · the reference: "))
    table.insert(inlines, code("solutions/" .. ch.name .. "/"))
  end
  return pandoc.Div({ pandoc.Para(inlines) }, { class = "lab" })
end

------------------------------------------------------------------ timelines

local function timeline_figure(div, ch)
  local lab = div.attributes["lab"] or ch.name
  local svg = img_dir .. "/" .. lab .. "-timeline.svg"
  if not exists(svg) then
    error("book: " .. ch.path .. " shows the timeline of lab " .. lab .. ", but " .. svg
          .. " was not made: solutions/" .. lab .. "/demo.c must exist and write --csv FILE", 0)
  end
  local caption = pandoc.List()
  if #div.content > 0 then
    caption = pandoc.utils.blocks_to_inlines(div.content)
  else
    caption:insert(pandoc.Str("Lab " .. lab:sub(1, 2)
      .. "'s demo, one real run: a bar per operation id from its first event to its last; "
      .. "below, how many were in flight."))
  end
  local img = pandoc.Image(caption, "img/" .. lab .. "-timeline.svg", "fig:", { class = "timeline" })
  return pandoc.Para({ img })
end

-- Where a chapter without a timeline gets one: the end of its first section
-- about the lab or the demo, else before "Version notes", else at the end.
local function timeline_slot(blocks)
  local found
  for i, b in ipairs(blocks) do
    if b.t == "Header" and b.level == 2 then
      local title = stringify(b.content):lower()
      if found then
        return i
      end
      if title:match("lab") or title:match("demo") then
        found = i
      elseif title:match("version notes") then
        return i
      end
    end
  end
  return #blocks + 1
end

local function add_timelines(ch, blocks)
  local seen = false
  blocks = pandoc.walk_block(pandoc.Div(blocks), {
    Div = function(div)
      if div.classes:includes("timeline") then
        seen = true
        return timeline_figure(div, ch)
      end
    end,
  }).content
  if not seen and exists(img_dir .. "/" .. ch.name .. "-timeline.svg") then
    warn(ch.path .. " has no `::: {.timeline}` div: its lab's timeline goes at the end of its lab section")
    blocks:insert(timeline_slot(blocks), timeline_figure(pandoc.Div({}), ch))
  end
  return blocks
end

------------------------------------------------------------------ figures from a run

-- Numbers a chapter shows from running code are never typed by hand: they
-- come from the demo's run that draws the timelines (book/demo-csv.sh keeps
-- its output as csv/LAB.log), so a page cannot show a stale figure.
local run_logs = {} -- lab -> its output, one string per line

local function run_log(lab)
  if run_logs[lab] == nil then
    local path = img_dir:gsub("/img$", "/csv") .. "/" .. lab .. ".log"
    if not exists(path) then
      error("book: " .. current_chapter.path .. " quotes the demo of lab " .. lab .. ", but " .. path
            .. " was not made: solutions/" .. lab .. "/demo.c must exist and write --csv FILE", 0)
    end
    local lines = pandoc.List()
    for line in (read_file(path) .. "\n"):gmatch("([^\n]*)\n") do
      -- grade.sh's banner names solutions/: not part of the demo's output.
      if not line:match("^== demo of ") then
        lines:insert(line)
      end
    end
    run_logs[lab] = lines
  end
  return run_logs[lab]
end

-- The first line at or after index `first` that matches the Lua pattern.
local function find_line(lines, pattern, first, what)
  for i = first, #lines do
    if lines[i]:match(pattern) then
      return i
    end
  end
  error("book: " .. current_chapter.path .. ": " .. what .. ": no line of the demo's output matches `"
        .. pattern .. "`", 0)
end

-- book/run-values.txt: KEY LAB[:N] FIELD PATTERN. KEY's value is the
-- FIELD-th blank-separated word of the first (N-th) line of LAB's output
-- matching PATTERN (FIELD "-": the pattern's first capture).
local run_keys

local function run_value(key)
  if run_keys == nil then
    run_keys = {}
    for line in read_file("book/run-values.txt"):gmatch("[^\n]+") do
      local k, lab, field, pattern = line:match("^(%S+)%s+(%S+)%s+(%S+)%s+(.-)%s*$")
      if k and k:sub(1, 1) ~= "#" then
        run_keys[k] = { lab = lab, field = field, pattern = pattern }
      end
    end
  end
  local def = run_keys[key]
  if def == nil then
    error("book: " .. current_chapter.path .. ": [" .. key .. "]{.run}: no such key in book/run-values.txt", 0)
  end
  local lab, nth = def.lab:match("^([^:]+):?(%d*)$")
  local lines = run_log(lab)
  local at = 0
  for _ = 1, tonumber(nth) or 1 do
    at = find_line(lines, def.pattern, at + 1, "run value " .. key)
  end
  local line = lines[at]
  local value
  if def.field == "-" then
    value = line:match(def.pattern)
  else
    local words = pandoc.List()
    for w in line:gmatch("%S+") do
      words:insert(w)
    end
    value = words[tonumber(def.field)]
  end
  if value == nil then
    error("book: " .. current_chapter.path .. ": run value " .. key .. ": no field " .. def.field
          .. " in `" .. line .. "`", 0)
  end
  return value
end

-- A bound of min= or max=: a number, another key's value, or a number times
-- another key's value ("5*srv.unloaded.p99"): a claim that compares two
-- figures of the same run.
local function run_bound(text)
  if text == nil or tonumber(text) then
    return tonumber(text)
  end
  local factor, key = text:match("^([%d.]+)%*(%S+)$")
  local n = tonumber((run_value(key or text):gsub(",", "")))
  if n == nil then
    error("book: " .. current_chapter.path .. ": bound " .. text .. ": not a number in this run", 0)
  end
  return (tonumber(factor) or 1) * n
end

local function run_span(span)
  local key = span.attributes["key"]
  local value = run_value(key)
  local lo, hi = run_bound(span.attributes["min"]), run_bound(span.attributes["max"])
  if lo == nil and hi == nil then
    return pandoc.Span({ pandoc.Str(value) }, { class = "run" })
  end
  local n = tonumber((value:gsub(",", "")))
  if n == nil or (lo and n < lo) or (hi and n > hi) then
    error("book: " .. current_chapter.path .. ": \"" .. stringify(span.content) .. "\" says "
          .. key .. " is in [" .. tostring(lo or "") .. ", " .. tostring(hi or "") .. "], but this run gave "
          .. value .. ": the prose is stale", 0)
  end
  return pandoc.Span(span.content, { class = "run" })
end

-- `::: {.demo-output lab=LAB from=PATTERN to=PATTERN}`: the lines of LAB's
-- output from the first that matches `from` to the next that matches `to`
-- (or `lines=N` lines; default: all of it); `match=PATTERN` keeps only the
-- lines of those that match.
local function demo_output(div)
  local lab = div.attributes["lab"] or current_chapter.name
  local lines = run_log(lab)
  local from, to = 1, #lines
  if div.attributes["from"] then
    from = find_line(lines, div.attributes["from"], 1, "demo-output from=")
  end
  if div.attributes["to"] then
    to = find_line(lines, div.attributes["to"], from, "demo-output to=")
  elseif div.attributes["lines"] then
    to = math.min(#lines, from + tonumber(div.attributes["lines"]) - 1)
  end
  while to > from and lines[to]:match("^%s*$") do
    to = to - 1
  end
  local shown = pandoc.List({ table.unpack(lines, from, to) })
  if div.attributes["match"] then
    shown = shown:filter(function(line) return line:match(div.attributes["match"]) end)
  end
  local text = table.concat(shown, "\n")
  return pandoc.CodeBlock(text, { class = "demo-output" })
end

local function run_figures(blocks)
  return pandoc.walk_block(pandoc.Div(blocks), {
    Span = function(span)
      if span.classes:includes("run") then
        return run_span(span)
      end
    end,
    Div = function(div)
      if div.classes:includes("demo-output") then
        return demo_output(div)
      end
    end,
  }).content
end

------------------------------------------------------------------ solution notes

-- `::: solution` divs hold what explains the reference code: walkthroughs,
-- why this line, the design choices a student should make on their own.
-- The full edition shows them in a labelled box; the students' edition
-- leaves them out (book/check.sh checks that it names nothing of theirs).
local function solution_notes(blocks)
  return pandoc.walk_block(pandoc.Div(blocks), {
    Div = function(div)
      if not div.classes:includes("solution") then
        return nil
      end
      if student_edition then
        return {}
      end
      local label = pandoc.Para({ pandoc.Strong({ pandoc.Str("Solution notes") }),
        pandoc.Str(" (full edition only)") })
      div.content:insert(1, label)
      return div
    end,
  }).content
end

------------------------------------------------------------------ grader tables

-- `::: {.grader-table}` (lab= another lab): the lab's contract clauses and
-- its graded tests, made from the headers and the test declarations by
-- tools/clauses.sh, so the table cannot drift from what the grader runs.
local function grader_table(div, ch)
  local lab = div.attributes["lab"] or ch.name
  if not exists("tests/" .. lab) then
    error("book: " .. ch.path .. " shows the grader table of lab " .. lab .. ", which has no tests/", 0)
  end
  local md = pandoc.pipe("tools/clauses.sh", { lab, "--markdown" }, "")
  return pandoc.Div(pandoc.read(md, "markdown").blocks, { class = "grader-table" })
end

local function add_grader_tables(blocks)
  return pandoc.walk_block(pandoc.Div(blocks), {
    Div = function(div)
      if div.classes:includes("grader-table") then
        return grader_table(div, current_chapter)
      end
    end,
  }).content
end

------------------------------------------------------------------ links and ids

-- The id a chapter's element gets in the output: in single mode, ids that
-- several chapters define are prefixed with the chapter's name.
local function out_id(name, id)
  if mode == "single" and owners[id] and #owners[id] > 1 then
    return name .. "--" .. id
  end
  return id
end

local function href(name, frag, current)
  if mode == "single" then
    return "#" .. out_id(name, frag ~= "" and frag or name)
  end
  local page = (name == current) and "" or (name .. ".html")
  if frag == "" or (frag == name and page ~= "") then
    return page ~= "" and page or ("#" .. name)
  end
  return page .. "#" .. frag
end

local function resolve_id(id, current)
  if current and by_name[current].ids[id] then
    return href(current, id, current)
  end
  local o = owners[id]
  if o == nil then
    warn((current or "intro") .. ": link to #" .. id .. ": no chapter defines this id")
    return nil
  end
  if #o > 1 then
    warn((current or "intro") .. ": link to #" .. id .. " is ambiguous ("
         .. table.concat(o, ", ") .. "); it goes to " .. o[1])
  end
  return href(o[1], id, current)
end

local function resolve_chapter(name, frag, current)
  local ch = by_name[name]
  if ch == nil then
    warn((current or "intro") .. ": link to " .. name .. ".md: no such chapter")
    return name .. ".html" .. (frag ~= "" and ("#" .. frag) or "")
  end
  if frag ~= "" and not ch.ids[frag] then
    warn((current or "intro") .. ": link to " .. name .. ".md#" .. frag .. ": no such id there")
  end
  return href(name, frag, current)
end

local REPO_DIRS = { "solutions/", "labs/", "tests/", "helpers/", "grader/", "tools/", "mk/", "book/" }

local function repo_path(target)
  local path = target:gsub("^%./", ""):gsub("^%.%./", "")
  for _, d in ipairs(REPO_DIRS) do
    if path:sub(1, #d) == d then
      return path
    end
  end
  if path == "Makefile" or path:match("^[%u]+%.md$") then
    return path
  end
  return nil
end

local function chapter_in_course(name)
  return exists("chapters/" .. name .. ".md")
end

-- The chapter a link names by its file (NN-slug.md#x) or by its id (#NN-slug).
local function linked_chapter(target)
  local path, frag = target:match("^([^#]*)#?(.*)$")
  if path == "" then
    return frag:match("^(%d%d%-[%w_%-]+)$")
  end
  return path:gsub("^%./", ""):gsub("^%.%./", ""):gsub("^chapters/", ""):match("^(%d%d%-[%w_%-]+)%.md$")
end

-- A chapter of the course this book leaves out (a handout of some labs only).
local function left_out(target)
  local name = linked_chapter(target)
  return name ~= nil and by_name[name] == nil and chapter_in_course(name)
end

local function rewrite_link(link, current)
  local t = link.target
  if t:match("^%a[%w+.-]*:") then
    return nil -- http:, mailto:, file: ...
  end
  if left_out(t) then
    -- Its title stays, as text, rather than a link to nowhere.
    return pandoc.Span(link.content)
  end
  if t:sub(1, 1) == "#" then
    link.target = resolve_id(t:sub(2), current) or t
    return link
  end
  local path, frag = t:match("^([^#]*)#?(.*)$")
  local name = linked_chapter(path)
  if name then
    link.target = resolve_chapter(name, frag, current)
    return link
  end
  local repo = repo_path(path)
  if repo then
    -- The book is read away from the repository: name the file instead.
    local inlines = pandoc.List(link.content)
    if stringify(inlines) ~= repo then
      inlines:extend({ pandoc.Str(" ("), pandoc.Code(repo), pandoc.Str(")") })
    end
    return pandoc.Span(inlines, { class = "repo-path" })
  end
  return nil
end

local function rewrite_links(blocks, current)
  return pandoc.walk_block(pandoc.Div(blocks), {
    Link = function(link) return rewrite_link(link, current) end,
  }).content
end

local function rename_ids(blocks, name)
  if mode ~= "single" then
    return blocks
  end
  return each_id_element(blocks, function(el)
    el.identifier = out_id(name, el.identifier)
    return el
  end)
end

------------------------------------------------------------------ commands

-- The students' edition has no solutions/ to run: its commands go through
-- book/student-commands.sed, the rules tools/handout.sh applies to a
-- handout's chapters too (only text that names SRC=solutions is piped).
local function own_lab(el)
  if el.text:find("SRC=solutions", 1, true) then
    el.text = pandoc.pipe("sed", { "-E", "-f", "book/student-commands.sed" }, el.text)
  end
  return el
end

local function student_commands(blocks)
  if not student_edition then
    return blocks
  end
  return pandoc.walk_block(pandoc.Div(blocks), { CodeBlock = own_lab, Code = own_lab }).content
end

------------------------------------------------------------------ chapters

-- One chapter's blocks, ready for the page or the book.
local function render_chapter(ch, blocks)
  current_chapter = ch
  blocks = solution_notes(pandoc.List(blocks))
  blocks = run_figures(blocks)
  blocks = student_commands(blocks)
  number_headers(ch, blocks)
  local box = lab_box(ch)
  if box then
    blocks:insert(2, box)
  end
  blocks = add_timelines(ch, blocks)
  current_chapter = ch
  blocks = add_grader_tables(blocks)
  blocks = rewrite_links(blocks, ch.name)
  return rename_ids(blocks, ch.name)
end

local function nav_title(ch)
  local h = pandoc.Header(1, ch.blocks[1].content:clone())
  local copy = { number = ch.number, sections = {} }
  number_headers(copy, { h })
  return copy.title
end

local function set_nav(meta, prev, next)
  meta.nav = true
  if prev then
    meta["prev-href"] = prev.name and (prev.name .. ".html") or "index.html"
    meta["prev-title"] = prev.name and pandoc.MetaInlines(nav_title(prev)) or pandoc.MetaInlines({ pandoc.Str("Contents") })
  end
  if next then
    meta["next-href"] = next.name .. ".html"
    meta["next-title"] = pandoc.MetaInlines(nav_title(next))
  end
end

local function page(doc)
  local input = PANDOC_STATE.input_files[1] or ""
  local name = input:match("([^/]+)%.md$")
  local ch = by_name[name]
  if ch == nil then
    error("book: " .. input .. " is not in book-chapters", 0)
  end
  doc.blocks = render_chapter(ch, ch.blocks)
  set_nav(doc.meta, chapters[ch.index - 1] or {}, chapters[ch.index + 1])
  -- The page's sections, under the title and the lab box.
  local items = {}
  for _, s in ipairs(ch.sections) do
    items[#items + 1] = { pandoc.Plain({ pandoc.Link(s.title, "#" .. s.id) }) }
  end
  if #items > 0 then
    local at = (doc.blocks[2] and doc.blocks[2].classes and doc.blocks[2].classes:includes("lab")) and 3 or 2
    doc.blocks:insert(at, pandoc.Div({ pandoc.BulletList(items) }, { class = "page-toc" }))
  end
  doc.meta.pagetitle = stringify(ch.title) .. " — " .. stringify(doc.meta.title or "")
  doc.meta["chapter-page"] = true
  return doc
end

-- The contents page: the intro, the other formats, every chapter and its sections.
local function index(doc)
  local items = {}
  for _, ch in ipairs(chapters) do
    local copy = { number = ch.number, sections = {} }
    number_headers(copy, pandoc.List(ch.blocks):map(function(b) return b:clone() end))
    local subs = {}
    for _, s in ipairs(copy.sections) do
      subs[#subs + 1] = { pandoc.Plain({ pandoc.Link(s.title, ch.name .. ".html#" .. s.id) }) }
    end
    local item = { pandoc.Plain({ pandoc.Link(copy.title, ch.name .. ".html") }) }
    if #subs > 0 then
      item[2] = pandoc.BulletList(subs)
    end
    items[#items + 1] = item
  end
  -- The students' edition is HTML only (make book-student): no EPUB, no PDF.
  local formats = { pandoc.Str("The whole book: "), pandoc.Link({ pandoc.Str("one page") }, "book.html") }
  if not student_edition then
    formats[#formats + 1] = pandoc.Str(", ")
    formats[#formats + 1] = pandoc.Link({ pandoc.Str("EPUB") }, "book.epub")
    formats[#formats + 1] = pandoc.Str(", ")
    formats[#formats + 1] = pandoc.Link({ pandoc.Str("PDF") }, "book.pdf")
  end
  formats[#formats + 1] = pandoc.Str(".")
  doc.blocks:insert(pandoc.Para(formats))
  doc.blocks:insert(pandoc.Header(2, { pandoc.Str("Contents") }, { id = "contents" }))
  doc.blocks:insert(pandoc.Div({ pandoc.BulletList(items) }, { class = "book-toc" }))
  doc.blocks = rewrite_links(student_commands(doc.blocks), nil)
  set_nav(doc.meta, nil, chapters[1])
  doc.meta.pagetitle = stringify(doc.meta.title or "")
  return doc
end

local function single(doc)
  local blocks = rewrite_links(student_commands(doc.blocks), nil)
  blocks:insert(1, pandoc.Header(1, { pandoc.Str("About"), pandoc.Space(), pandoc.Str("this"),
    pandoc.Space(), pandoc.Str("book") }, { id = "about", class = "unnumbered" }))
  for _, ch in ipairs(chapters) do
    blocks:extend(render_chapter(ch, ch.blocks))
  end
  doc.blocks = blocks
  return doc
end

------------------------------------------------------------------ the handout's Markdown

-- book-mode=markdown: the chapter in the input (tools/handout.sh's copy, its
-- solution notes out) as the handout ships its Markdown: its own text, raw,
-- but saying what its page says. A `[text]{.run key=KEY}` span shows KEY's
-- value in the same run (with min= or max= its text stays: run_span checks
-- the range), and a link to a chapter the book leaves out is its text.
local RUN_SPAN = "%[([^%[%]]*)%]{%.run(%s[^}]*)}"
local LINK = "%[([^%[%]]*)%]%(([^%s)]*)%)"

local function run_text(_, attrs)
  if attrs:match("%smin=") or attrs:match("%smax=") then
    return nil
  end
  return "[" .. run_value(attrs:match("%skey=([^%s}]+)") or "") .. "]{.run" .. attrs .. "}"
end

local function link_text(words, target)
  if left_out(target) then
    return words
  end
end

-- A span or link the text's patterns did not see (brackets in its text)
-- stops the build rather than shipping a stale figure or a dead link.
local function check_markdown(text)
  local where = "book: " .. current_chapter.path .. ": the handout's Markdown "
  pandoc.walk_block(pandoc.Div(pandoc.read(text, "markdown").blocks), {
    Span = function(span)
      local shown = span.classes:includes("run") and stringify(run_span(span).content)
      if shown and shown ~= stringify(span.content) then
        error(where .. "says " .. stringify(span.content) .. " where the run gives " .. shown, 0)
      end
    end,
    Link = function(link)
      if left_out(link.target) then
        error(where .. "links " .. link.target .. ", a chapter it leaves out", 0)
      end
    end,
  })
end

local function markdown()
  local path = PANDOC_STATE.input_files[1]
  current_chapter = { path = path, name = path:match("([^/]+)%.md$") }
  local text = read_file(path):gsub(RUN_SPAN, run_text):gsub(LINK, link_text)
  check_markdown(text)
  return pandoc.Pandoc({ pandoc.RawBlock("markdown", text) })
end

function Pandoc(doc)
  mode = stringify(doc.meta["book-mode"] or "page")
  if student_edition then
    doc.meta["book-edition"] = "student" -- the template labels its pages
  end
  img_dir = stringify(doc.meta["book-img-dir"] or img_dir)
  load_chapters(stringify(doc.meta["book-chapters"] or ""))
  if mode == "page" then
    return page(doc)
  elseif mode == "index" then
    return index(doc)
  elseif mode == "single" then
    return single(doc)
  elseif mode == "markdown" then
    return markdown()
  end
  error("book: unknown book-mode " .. mode, 0)
end
