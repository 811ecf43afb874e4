# student-commands.sed — the students' edition has no solutions/ to run
# (sed -E). A shell line that runs or grades the reference beside the
# student's own (`make run LAB=NN SRC=solutions  # the reference`) is
# dropped; any other mention is of the student's lab, which does the same
# once it passes. Applied to the edition's code by book/book.lua and to a
# handout's chapters by tools/handout.sh.
/^make [a-z]+ LAB=[0-9]+ SRC=solutions +# the reference/d
s/(make [a-z]+ LAB=[0-9]+) SRC=solutions/\1/g
