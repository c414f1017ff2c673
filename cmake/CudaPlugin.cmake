# The CUDA backend as a loadable module, libtabula_cuda.so, next to the tabula program: the
# sources of src/backend/cuda and kernels/ with cudart (static), cuBLAS and cuSOLVER, linked
# against libtabula.so (shared in CUDA builds) for the types and helpers it shares with the
# program. It exports only the C entry points of src/backend/cuda_plugin_abi.hpp (version
# script); its own symbols stay private. The program dlopen()s it only when a CUDA device is
# asked for or probed (src/backend/cuda_loader.cpp), so a CPU run maps no CUDA library.
file(GLOB TABULA_CUDA_PLUGIN_SOURCES CONFIGURE_DEPENDS
  ${CMAKE_CURRENT_SOURCE_DIR}/src/backend/cuda/*.cpp
  ${CMAKE_CURRENT_SOURCE_DIR}/src/backend/cuda/*.cu
  ${CMAKE_CURRENT_SOURCE_DIR}/kernels/*.cu)

add_library(tabula_cuda_plugin MODULE ${TABULA_CUDA_PLUGIN_SOURCES})
set_target_properties(tabula_cuda_plugin PROPERTIES
  OUTPUT_NAME tabula_cuda
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}
  CXX_VISIBILITY_PRESET hidden
  CUDA_VISIBILITY_PRESET hidden
  VISIBILITY_INLINES_HIDDEN ON)
target_include_directories(tabula_cuda_plugin PRIVATE
  ${CMAKE_CURRENT_SOURCE_DIR}/src ${CMAKE_CURRENT_SOURCE_DIR}/kernels)
target_link_libraries(tabula_cuda_plugin PRIVATE tabula_lib tabula::cuda)
target_compile_options(tabula_cuda_plugin PRIVATE
  $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wpedantic>)
set(TABULA_CUDA_PLUGIN_MAP ${CMAKE_CURRENT_SOURCE_DIR}/cmake/cuda_plugin.map)
target_link_options(tabula_cuda_plugin PRIVATE -Wl,--version-script=${TABULA_CUDA_PLUGIN_MAP}
  -Wl,--exclude-libs,ALL)
# -z defs: a symbol the plugin would expect from its host is a link error here, not a dlopen
# failure on a user's machine. (Sanitizer runtimes are resolved from the program: not there.)
if(NOT TABULA_SANITIZE)
  target_link_options(tabula_cuda_plugin PRIVATE -Wl,-z,defs)
endif()
set_property(TARGET tabula_cuda_plugin APPEND PROPERTY LINK_DEPENDS ${TABULA_CUDA_PLUGIN_MAP})
