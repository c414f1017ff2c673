# The optional CUDA backend. TABULA_CUDA=AUTO enables it where a CUDA compiler is found.
# Default architectures: Hopper (sm_90) machine code plus compute_75 PTX, which the driver
# compiles for any newer GPU, laptops' Turing/Ampere/Ada included. Override with
# -DCMAKE_CUDA_ARCHITECTURES=...
set(TABULA_WITH_CUDA OFF)
if(NOT TABULA_CUDA STREQUAL "OFF")
  include(CheckLanguage)
  check_language(CUDA)
  if(CMAKE_CUDA_COMPILER)
    set(TABULA_WITH_CUDA ON)
  elseif(TABULA_CUDA STREQUAL "ON")
    message(FATAL_ERROR "TABULA_CUDA=ON but no CUDA compiler was found (set CMAKE_CUDA_COMPILER)")
  else()
    message(STATUS "No CUDA compiler found: building the CPU backend only")
  endif()
endif()

if(TABULA_WITH_CUDA)
  if(NOT DEFINED CMAKE_CUDA_ARCHITECTURES)
    set(CMAKE_CUDA_ARCHITECTURES "90-real;75-virtual")
  endif()
  enable_language(CUDA)
  # CUDA sources are C++20 like the host code (nvcc 12+ compiles it), so kernels use the host's
  # view types. CMake 3.25 (Debian 12) does not know nvcc's C++20 flag: teach it.
  if(NOT CMAKE_CUDA20_STANDARD_COMPILE_OPTION)
    set(CMAKE_CUDA20_STANDARD_COMPILE_OPTION "-std=c++20")
    set(CMAKE_CUDA20_EXTENSION_COMPILE_OPTION "-std=c++20")
    list(APPEND CMAKE_CUDA_COMPILE_FEATURES cuda_std_20)
    list(APPEND CMAKE_CUDA20_COMPILE_FEATURES cuda_std_20)
  endif()
  # Set after enable_language: its compiler check must not ask for a dialect CMake cannot map.
  set(CMAKE_CUDA_STANDARD 20)
  set(CMAKE_CUDA_STANDARD_REQUIRED ON)
  set(CMAKE_CUDA_EXTENSIONS OFF)
  find_package(CUDAToolkit REQUIRED)
  # Dependencies found in /usr/include (fast_float, cblas) must not reach nvcc as -isystem: that
  # reorders the system headers and breaks libstdc++'s #include_next <math.h>. Treat the host
  # compiler's implicit directories as implicit for CUDA too, so CMake leaves them out.
  list(APPEND CMAKE_CUDA_IMPLICIT_INCLUDE_DIRECTORIES ${CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES})
  list(REMOVE_DUPLICATES CMAKE_CUDA_IMPLICIT_INCLUDE_DIRECTORIES)
  # Linked by the CUDA plugin only (libtabula_cuda.so, CMakeLists.txt), never by the tabula
  # program: a CPU run does not map cuBLAS/cuSOLVER. cudart is static inside the plugin.
  add_library(tabula_cuda_libs INTERFACE)
  add_library(tabula::cuda ALIAS tabula_cuda_libs)
  target_link_libraries(tabula_cuda_libs INTERFACE CUDA::cudart_static CUDA::cublas CUDA::cusolver)
  message(STATUS "CUDA ${CUDAToolkit_VERSION}, architectures ${CMAKE_CUDA_ARCHITECTURES}")
endif()
