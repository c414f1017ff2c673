# The Python package's extension needs Python's headers and nanobind. Under scikit-build-core
# (pip install .) both come from the build environment; in a plain build, from the .venv that
# scripts/setup.sh makes (TABULA_PYTHON_EXECUTABLE). AUTO builds it where they are found.
set(TABULA_WITH_PYTHON OFF)
if(NOT TABULA_PYTHON STREQUAL "OFF" AND NOT TABULA_SANITIZE)
  if(NOT SKBUILD)
    set(TABULA_PYTHON_EXECUTABLE "${PROJECT_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH
        "Python whose headers and nanobind build the extension")
    if(EXISTS "${TABULA_PYTHON_EXECUTABLE}")
      set(Python_EXECUTABLE "${TABULA_PYTHON_EXECUTABLE}")
    endif()
  endif()
  find_package(Python 3.9 COMPONENTS Interpreter Development.Module QUIET)
  if(Python_FOUND)
    execute_process(COMMAND "${Python_EXECUTABLE}" -m nanobind --cmake_dir
                    OUTPUT_VARIABLE nanobind_ROOT OUTPUT_STRIP_TRAILING_WHITESPACE
                    RESULT_VARIABLE nanobind_missing ERROR_QUIET)
    if(NOT nanobind_missing)
      find_package(nanobind CONFIG QUIET)
    endif()
  endif()
  if(nanobind_FOUND)
    set(TABULA_WITH_PYTHON ON)
  elseif(TABULA_PYTHON STREQUAL "ON")
    message(FATAL_ERROR "TABULA_PYTHON=ON: no Python with nanobind (pip install nanobind)")
  endif()
endif()
message(STATUS "Python package extension (nanobind): ${TABULA_WITH_PYTHON}")
