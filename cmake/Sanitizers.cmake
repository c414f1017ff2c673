# TABULA_SANITIZE=address,undefined builds everything with those sanitizers.
if(TABULA_SANITIZE)
  set(_flags -fsanitize=${TABULA_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_compile_options("$<$<COMPILE_LANGUAGE:CXX,C>:${_flags}>")
  add_link_options(${_flags})
endif()
