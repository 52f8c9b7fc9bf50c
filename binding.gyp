{
  "targets": [
    {
      "target_name": "tsync_native",
      "sources": ["native/list_dir.c", "native/copy_small.c", "native/xxh64.c", "native/sync_fs.c", "native/list_ahead.c", "native/dirs_ahead.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
