--[[ include-code.lua — pulls the book's code from the real source files.

A chapter never contains code by hand. It writes an empty block

    ```{.c include="solutions/00-the-loop/naps.c" snippet="naps-on-wake"}
    ```

and this filter fills it with the lines between `/* $begin naps-on-wake */`
and `/* $end naps-on-wake */` in that file (paths are relative to the
repository root, where pandoc runs). Without snippet= the whole file is used.

Rules:
  - marker lines are dropped from the text: other snippets' $begin/$end lines
    and the starter generator's SOLUTION BEGIN/END and STARTER: lines;
  - the text is dedented by the indentation its lines share, and leading and
    trailing blank lines are trimmed;
  - a missing file, a missing snippet, a missing or early end marker and a
    second begin marker of the same name stop the build (pandoc exits 83);
  - in the students' edition (environment BOOK_EDITION=student) a path
    under solutions/ is read under labs/ instead: the same snippet as the
    starter code hands it out, TODOs where the solution would be; the
    include= attribute then names that file. BOOK_LABS (default labs) is
    the folder that file is read from: make handout sets it to starters
    generated afresh, so a solved or edited labs/ never reaches the book;
  - the block keeps its include= and snippet= attributes (the book's checks
    read them back) and is wrapped in a div.listing whose first line names
    the file, so a reader always knows where the code lives.
]]

local function fail(path, snippet, why)
  local what = path
  if snippet then
    what = what .. ' snippet "' .. snippet .. '"'
  end
  local input = PANDOC_STATE.input_files[1] or "stdin"
  error("include-code: " .. input .. ": " .. what .. ": " .. why, 0)
end

local function read_lines(path, name)
  local f = io.open(path, "r")
  if f == nil then
    fail(path, name, "cannot open the file (paths are relative to the repository root)")
  end
  local lines = {}
  for line in f:lines() do
    lines[#lines + 1] = line
  end
  f:close()
  return lines
end

-- The name a $begin or $end line marks, or nil: `/* $begin name */` or
-- `# $begin name`, indented or not.
local function marker(line, kind)
  return line:match("^%s*/%*%s*%$" .. kind .. "%s+([%w_.%-]+)%s*%*/%s*$")
      or line:match("^%s*#%s*%$" .. kind .. "%s+([%w_.%-]+)%s*$")
end

local function is_marker(line)
  return marker(line, "begin") ~= nil or marker(line, "end") ~= nil
      or line:match("^%s*/%*%s*SOLUTION BEGIN%s*%*/%s*$") ~= nil
      or line:match("^%s*/%*%s*SOLUTION END%s*%*/%s*$") ~= nil
      or line:match("^%s*/%*%s*STARTER:.*%*/%s*$") ~= nil
end

-- Index of the first and last line inside snippet name (exclusive of its
-- markers).
local function find_region(lines, path, name)
  local first, last
  for i, line in ipairs(lines) do
    if marker(line, "begin") == name then
      if first then
        fail(path, name, "a second /* $begin " .. name .. " */ at line " .. i
             .. " (the first is at line " .. (first - 1) .. ")")
      end
      first = i + 1
    elseif marker(line, "end") == name then
      if not first then
        fail(path, name, "/* $end " .. name .. " */ at line " .. i .. " comes before its $begin")
      end
      if not last then
        last = i - 1
      end
    end
  end
  if not first then
    fail(path, name, "no line /* $begin " .. name .. " */ in the file")
  end
  if not last then
    fail(path, name, "no line /* $end " .. name .. " */ after its $begin")
  end
  return first, last
end

local function common_indent(lines)
  local prefix
  for _, line in ipairs(lines) do
    if line:match("%S") then
      local ws = line:match("^%s*")
      if prefix == nil then
        prefix = ws
      else
        local n = 0
        while n < #prefix and n < #ws and prefix:sub(n + 1, n + 1) == ws:sub(n + 1, n + 1) do
          n = n + 1
        end
        prefix = prefix:sub(1, n)
      end
    end
  end
  return prefix or ""
end

-- The text shown for lines[first..last]: markers dropped, dedented, trimmed.
local function cut(lines, first, last)
  local kept = {}
  for i = first, last do
    if not is_marker(lines[i]) then
      kept[#kept + 1] = lines[i]
    end
  end
  while #kept > 0 and not kept[1]:match("%S") do
    table.remove(kept, 1)
  end
  while #kept > 0 and not kept[#kept]:match("%S") do
    table.remove(kept)
  end
  local indent = #common_indent(kept)
  for i, line in ipairs(kept) do
    kept[i] = line:match("%S") and line:sub(indent + 1) or ""
  end
  return table.concat(kept, "\n")
end

-- Where a path is read from: the students' edition never quotes solutions/.
-- Returns the path the block names and the file its text is read from:
-- the same file, except in the students' edition, where solutions/x is
-- labs/x, read from BOOK_LABS/x (make handout points BOOK_LABS at starters
-- freshly generated from solutions/, whatever the working tree's labs/ holds).
local function edition_path(path)
  if os.getenv("BOOK_EDITION") == "student" and path:match("^solutions/") then
    local rest = path:sub(#"solutions/" + 1)
    local labs = os.getenv("BOOK_LABS") or ""
    if labs == "" then
      labs = "labs"
    end
    return "labs/" .. rest, labs .. "/" .. rest
  end
  return path, path
end

local function caption(path, name)
  local inlines = { pandoc.Code(path) }
  if name then
    inlines[#inlines + 1] = pandoc.Space()
    inlines[#inlines + 1] = pandoc.Span({ pandoc.Str("(" .. name .. ")") }, { class = "snippet-name" })
  end
  return pandoc.Div({ pandoc.Plain(inlines) }, { class = "listing-caption" })
end

function CodeBlock(block)
  local path = block.attributes["include"]
  if path == nil then
    return nil
  end
  local source
  path, source = edition_path(path)
  block.attributes["include"] = path
  local name = block.attributes["snippet"]
  if block.text:match("%S") then
    fail(path, name, "the block must be empty: its text comes from the file")
  end
  local lines = read_lines(source, name)
  local first, last = 1, #lines
  if name then
    first, last = find_region(lines, path, name)
  end
  block.text = cut(lines, first, last)
  if not block.text:match("%S") then
    fail(path, name, "the region holds no code")
  end
  return pandoc.Div({ caption(path, name), block }, { class = "listing" })
end
