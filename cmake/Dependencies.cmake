# Third-party dependencies, from Debian packages or, for scripts/gpu-check.sh on a machine with no
# package manager, from a folder of packed headers (TABULA_DEPS_DIR, made by scripts/pack-deps.sh).
# Everything is gathered into the interface target tabula::deps (and tabula::cli11).
find_package(Threads REQUIRED)
add_library(tabula_deps INTERFACE)
add_library(tabula::deps ALIAS tabula_deps)
add_library(tabula_cli11 INTERFACE)
add_library(tabula::cli11 ALIAS tabula_cli11)
target_link_libraries(tabula_deps INTERFACE Threads::Threads)

if(TABULA_DEPS_DIR)
  # Header-only mode: Eigen, CLI11, nlohmann/json, fast_float, spdlog, fmt and toml++ as plain
  # headers.
  message(STATUS "Using packed dependencies from ${TABULA_DEPS_DIR}")
  target_include_directories(tabula_deps SYSTEM INTERFACE ${TABULA_DEPS_DIR}/include
                                                         ${TABULA_DEPS_DIR}/include/eigen3)
  target_compile_definitions(tabula_deps INTERFACE SPDLOG_HEADER_ONLY SPDLOG_FMT_EXTERNAL
                                                   FMT_HEADER_ONLY TOML_HEADER_ONLY=1)
else()
  find_package(Eigen3 3.3 REQUIRED NO_MODULE)
  find_package(CLI11 REQUIRED)
  find_package(nlohmann_json 3 REQUIRED)
  find_package(fmt REQUIRED)
  find_package(spdlog REQUIRED)
  find_package(tomlplusplus 3 REQUIRED)
  find_path(FAST_FLOAT_INCLUDE_DIR fast_float/fast_float.h REQUIRED)
  target_include_directories(tabula_deps SYSTEM INTERFACE ${FAST_FLOAT_INCLUDE_DIR})
  target_link_libraries(tabula_deps INTERFACE Eigen3::Eigen nlohmann_json::nlohmann_json
                                              spdlog::spdlog fmt::fmt tomlplusplus::tomlplusplus)
  target_link_libraries(tabula_cli11 INTERFACE CLI11::CLI11)
endif()
# Eigen must not start threads of its own: the CPU backend parallelises over row blocks.
target_compile_definitions(tabula_deps INTERFACE EIGEN_DONT_PARALLELIZE)

# BLAS for the CPU backend's dense products: OpenBLAS (runtime CPU dispatch) when present, else
# Eigen's own products. Both are driven single-threaded from tabula's thread pool.
# With packed dependencies (a machine without packages) only Eigen is assumed.
if(NOT TABULA_DEPS_DIR)
  find_path(TABULA_CBLAS_INCLUDE_DIR cblas.h PATH_SUFFIXES openblas)
  find_library(TABULA_OPENBLAS_LIBRARY NAMES openblas)
endif()
if(TABULA_CBLAS_INCLUDE_DIR AND TABULA_OPENBLAS_LIBRARY)
  set(TABULA_BLAS OpenBLAS)
  target_include_directories(tabula_deps SYSTEM INTERFACE ${TABULA_CBLAS_INCLUDE_DIR})
  target_link_libraries(tabula_deps INTERFACE ${TABULA_OPENBLAS_LIBRARY})
  target_compile_definitions(tabula_deps INTERFACE TABULA_WITH_OPENBLAS=1)
else()
  set(TABULA_BLAS Eigen)
endif()

# Compressed CSV input (src/io/compressed_file.cpp: gzip, xz, bzip2, zstd) from Debian's
# zlib1g-dev, liblzma-dev, libbz2-dev and libzstd-dev. Without all four (or with packed
# dependencies) compressed files are refused with a clear error, as before.
set(TABULA_WITH_COMPRESSION OFF)
set(TABULA_WITH_LIBDEFLATE OFF)
if(NOT TABULA_DEPS_DIR)
  find_package(ZLIB QUIET)
  find_package(LibLZMA QUIET)
  find_package(BZip2 QUIET)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(ZSTD QUIET IMPORTED_TARGET libzstd)
  endif()
  if(ZLIB_FOUND AND LIBLZMA_FOUND AND BZIP2_FOUND AND ZSTD_FOUND)
    set(TABULA_WITH_COMPRESSION ON)
    target_link_libraries(tabula_deps INTERFACE ZLIB::ZLIB LibLZMA::LibLZMA BZip2::BZip2
                                                PkgConfig::ZSTD)
    target_compile_definitions(tabula_deps INTERFACE TABULA_WITH_COMPRESSION=1)
    # Whole gzip files (train, tune, describe) through libdeflate (libdeflate-dev) when present:
    # 2-3x zlib's inflate rate; the streaming reader keeps zlib.
    pkg_check_modules(LIBDEFLATE QUIET IMPORTED_TARGET libdeflate)
    if(LIBDEFLATE_FOUND)
      set(TABULA_WITH_LIBDEFLATE ON)
      target_link_libraries(tabula_deps INTERFACE PkgConfig::LIBDEFLATE)
      target_compile_definitions(tabula_deps INTERFACE TABULA_WITH_LIBDEFLATE=1)
    endif()
  endif()
endif()
message(STATUS "Compressed CSV input (gzip, xz, bzip2, zstd): ${TABULA_WITH_COMPRESSION}"
               " (whole gzip files through libdeflate: ${TABULA_WITH_LIBDEFLATE})")

# SQL sources (src/io/sql/: --data "sqlite:///file.db?query=...") from Debian's libsqlite3-dev.
# Without it such a URL is refused with a message that says so.
set(TABULA_WITH_SQLITE OFF)
if(NOT TABULA_DEPS_DIR)
  find_package(SQLite3 QUIET)
  if(SQLite3_FOUND)
    set(TABULA_WITH_SQLITE ON)
    target_link_libraries(tabula_deps INTERFACE SQLite::SQLite3)
    target_compile_definitions(tabula_deps INTERFACE TABULA_WITH_SQLITE=1)
  endif()
endif()
message(STATUS "SQL sources (SQLite): ${TABULA_WITH_SQLITE}")

# PostgreSQL sources (--data "postgresql://host/db?query=...") through libpq (libpq-dev).
set(TABULA_WITH_POSTGRES OFF)
if(NOT TABULA_DEPS_DIR)
  find_package(PkgConfig QUIET)
  if(PkgConfig_FOUND)
    pkg_check_modules(LIBPQ QUIET IMPORTED_TARGET libpq)
    if(LIBPQ_FOUND)
      set(TABULA_WITH_POSTGRES ON)
      target_link_libraries(tabula_deps INTERFACE PkgConfig::LIBPQ)
      target_compile_definitions(tabula_deps INTERFACE TABULA_WITH_POSTGRES=1)
    endif()
  endif()
endif()
message(STATUS "SQL sources (PostgreSQL, libpq): ${TABULA_WITH_POSTGRES}")

# ONNX export (src/export/): Debian's libonnx-dev, its generated protobuf classes (onnx-ml.pb.h)
# and checker. Optional: without it `tabula export --format onnx` says how to get it.
set(TABULA_WITH_ONNX OFF)
find_package(Protobuf QUIET)
if(Protobuf_FOUND)
  find_package(ONNX CONFIG QUIET)
  if(TARGET onnx AND TARGET onnx_proto)
    set(TABULA_WITH_ONNX ON)
  endif()
endif()
message(STATUS "ONNX export (libonnx): ${TABULA_WITH_ONNX}")

# Parquet and Arrow IPC / Feather input (src/io/columnar/) through Apache Arrow C++. Debian 12
# does not package it; PyPI's pyarrow ships its libraries and headers, so the project's
# virtual environment (.venv, made by scripts/setup.sh) provides them. Optional: without them
# such files are refused with a message that says how to get them.
set(TABULA_WITH_ARROW OFF)
set(TABULA_PYARROW_PYTHON "${PROJECT_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH
    "Python whose pyarrow provides Arrow C++ (Parquet input)")
if(NOT TABULA_DEPS_DIR AND EXISTS "${TABULA_PYARROW_PYTHON}")
  execute_process(
    COMMAND "${TABULA_PYARROW_PYTHON}" -c
            "import os, pyarrow; print(os.path.dirname(pyarrow.__file__), end='')"
    WORKING_DIRECTORY "${CMAKE_BINARY_DIR}"
    OUTPUT_VARIABLE TABULA_PYARROW_DIR RESULT_VARIABLE pyarrow_result ERROR_QUIET)
  if(pyarrow_result EQUAL 0)
    # The wheel's libraries carry their ABI version in the name (libarrow.so.2600).
    file(GLOB arrow_libs "${TABULA_PYARROW_DIR}/libarrow.so.[0-9]*")
    file(GLOB parquet_libs "${TABULA_PYARROW_DIR}/libparquet.so.[0-9]*")
    list(FILTER arrow_libs EXCLUDE REGEX "\\.so\\.[0-9]+\\.")
    list(FILTER parquet_libs EXCLUDE REGEX "\\.so\\.[0-9]+\\.")
    if(arrow_libs AND parquet_libs AND EXISTS "${TABULA_PYARROW_DIR}/include/parquet/arrow/reader.h")
      list(GET arrow_libs 0 arrow_lib)
      list(GET parquet_libs 0 parquet_lib)
      add_library(tabula_arrow INTERFACE)
      target_include_directories(tabula_arrow SYSTEM INTERFACE "${TABULA_PYARROW_DIR}/include")
      # Full paths: CMake puts their folder in the build tree's run path; an install copies
      # them beside libtabula (CMakeLists.txt).
      target_link_libraries(tabula_arrow INTERFACE "${parquet_lib}" "${arrow_lib}")
      set(TABULA_ARROW_LIBRARIES "${parquet_lib}" "${arrow_lib}")
      target_compile_definitions(tabula_arrow INTERFACE TABULA_WITH_ARROW=1)
      set(TABULA_WITH_ARROW ON)
    endif()
  endif()
endif()
message(STATUS "Parquet and Arrow IPC input (Arrow C++ from pyarrow): ${TABULA_WITH_ARROW}")

# The HTTP server (src/serve/http_*.cpp, `tabula serve`): Boost.Beast and Boost.Asio, header-only
# from Debian's libboost-dev, and zlib for compressed request bodies (docs/architecture.md,
# decision 17). Without them (or with packed dependencies) the rest of src/serve is still built
# and `tabula serve` says the server is not built.
set(TABULA_WITH_SERVER OFF)
if(NOT TABULA_DEPS_DIR)
  find_package(Boost 1.74 QUIET CONFIG)
  find_package(ZLIB QUIET)
  if(Boost_FOUND AND ZLIB_FOUND AND EXISTS "${Boost_INCLUDE_DIRS}/boost/beast.hpp")
    set(TABULA_WITH_SERVER ON)
  endif()
endif()

# The Open Inference Protocol over gRPC (src/serve/grpc_*.cpp, `tabula serve --grpc-port`):
# Debian's libgrpc++-dev, protobuf-compiler-grpc, libprotobuf-dev and protobuf-compiler; the
# service's C++ code is generated from src/serve/proto/grpc_service.proto at build time
# (docs/architecture.md, decision 22). TABULA_GRPC: AUTO (where found, with the HTTP server),
# ON (required) or OFF. Without it `--grpc-port` says so and REST serves as before.
set(TABULA_GRPC AUTO CACHE STRING "Build the gRPC server: AUTO (where found), ON or OFF")
set_property(CACHE TABULA_GRPC PROPERTY STRINGS AUTO ON OFF)
set(TABULA_WITH_GRPC OFF)
if(NOT TABULA_GRPC STREQUAL "OFF" AND TABULA_WITH_SERVER)
  find_package(Protobuf QUIET)
  find_package(gRPC CONFIG QUIET)
  find_program(TABULA_GRPC_CPP_PLUGIN grpc_cpp_plugin)
  if(Protobuf_FOUND AND Protobuf_PROTOC_EXECUTABLE AND TARGET gRPC::grpc++ AND
     TABULA_GRPC_CPP_PLUGIN)
    set(TABULA_WITH_GRPC ON)
  endif()
endif()
if(TABULA_GRPC STREQUAL "ON" AND NOT TABULA_WITH_GRPC)
  message(FATAL_ERROR "TABULA_GRPC=ON but gRPC was not found: install libgrpc++-dev "
                      "protobuf-compiler-grpc libprotobuf-dev protobuf-compiler (scripts/setup.sh), "
                      "and the HTTP server's Boost and zlib")
endif()
if(TABULA_WITH_GRPC)
  message(STATUS "gRPC server: ON (gRPC ${gRPC_VERSION}, protobuf ${Protobuf_VERSION})")
elseif(TABULA_GRPC STREQUAL "OFF")
  message(STATUS "gRPC server: OFF (TABULA_GRPC=OFF); `tabula serve --grpc-port` will say so")
else()
  message(STATUS "gRPC server: OFF (libgrpc++-dev, protobuf-compiler-grpc, libprotobuf-dev or "
                 "protobuf-compiler not found); `tabula serve --grpc-port` will say so")
endif()
