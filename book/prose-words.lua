--[[ prose-words.lua — the prose a student reads in a chapter, as plain text.

Used by book/prose-words.sh: drops what is not prose (code blocks, tables,
raw blocks, generated divs: the grader table, demo output) and the solution
notes, which the students' edition leaves out, so what is left is the
students' edition's prose.
]]

local GENERATED = { "solution", "grader-table", "demo-output", "timeline" }

function Div(div)
  for _, class in ipairs(GENERATED) do
    if div.classes:includes(class) then
      return {}
    end
  end
end

function CodeBlock()
  return {}
end

function Table()
  return {}
end

function RawBlock()
  return {}
end
