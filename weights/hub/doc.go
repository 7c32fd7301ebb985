// Package hub downloads model repositories from a Hugging Face Hub into the
// standard Hugging Face cache, and finds them there again without the
// network.
//
// # The cache layout
//
// The layout is the one the Python library huggingface_hub writes, so files
// either side downloaded are shared:
//
//	$HF_HUB_CACHE (default $HF_HOME/hub, HF_HOME default ~/.cache/huggingface)
//	└── models--ORG--NAME
//	    ├── blobs/<etag>                    file contents, named by sha256 (LFS files)
//	    │                                   or by git blob sha1 (other files)
//	    ├── blobs/<etag>.incomplete         a download under way (resumed with HTTP ranges)
//	    ├── refs/<revision>                 the commit hash a branch or tag pointed to
//	    └── snapshots/<commit>/<file>       relative symlink to ../../blobs/<etag>
//
// Two downloaders of one blob take turns through the flock(2) lock
// huggingface_hub also takes, $HF_HUB_CACHE/.locks/models--ORG--NAME/<etag>.lock.
// A blob appears under its final name only after its size (and, for LFS
// files, its sha256) matched the repository's metadata, and a snapshot link
// only after its blob; so a file a reader finds in a snapshot is whole.
//
// # The Hub's API
//
// [Client.Pull] asks GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true
// for the commit and the list of files with their sizes, git blob ids and LFS
// sha256, then fetches each selected file from
// {endpoint}/{repo}/resolve/{commit}/{file}. Small files come back directly;
// LFS files redirect to a CDN, and the headers X-Repo-Commit, X-Linked-Etag
// (or ETag) and X-Linked-Size say what the redirect stands for. Errors carry
// X-Error-Code (RepoNotFound, RevisionNotFound, EntryNotFound, GatedRepo).
//
// Everything that comes from the server is treated as untrusted: response
// sizes and file counts are bounded, file names, commits and etags are
// checked before they become paths, so a hostile hub cannot write outside
// the repository's cache folder.
package hub
