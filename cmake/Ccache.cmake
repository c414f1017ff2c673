# Use ccache when present: CI builds three configurations on two cores.
find_program(TABULA_CCACHE ccache)
if(TABULA_CCACHE)
  set(CMAKE_C_COMPILER_LAUNCHER ${TABULA_CCACHE})
  set(CMAKE_CXX_COMPILER_LAUNCHER ${TABULA_CCACHE})
  set(CMAKE_CUDA_COMPILER_LAUNCHER ${TABULA_CCACHE})
endif()
