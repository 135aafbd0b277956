/**
 * What the Fashion-MNIST dataset is: its four idx files, the sha256 of each file's
 * DECOMPRESSED bytes, and where it can be obtained. Light (no I/O), so `kind.ts` can import it.
 *
 * @module
 */

/** Which kind of idx file a dataset file is. */
export type IdxRole = "images" | "labels";

/** One file of the dataset, as written to the download stage's output dir. */
export interface DatasetFile {
  /** File name without `.gz`, e.g. `train-images-idx3-ubyte`. */
  name: string;
  role: IdxRole;
  /** `train` or `t10k`: an images file and a labels file with the same split form a pair. */
  split: "train" | "t10k";
  /** Hex sha256 of the decompressed idx bytes. */
  sha256: string;
}

/**
 * The four files. Digests measured on 2026-11-25 from Debian's `dataset-fashion-mnist`
 * (`/usr/share/datasets/fashion-mnist/*.gz`, decompressed with zlib: `zcat f | sha256sum`).
 * Debian re-compressed the archives, so the official md5s of the `.gz` files do not match
 * them, but the decompressed bytes do: independent public projects that download from the
 * official URLs list the same four decompressed sha256 digests.
 */
export const FASHION_MNIST: readonly DatasetFile[] = [
  {
    name: "train-images-idx3-ubyte",
    role: "images",
    split: "train",
    sha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
  },
  {
    name: "train-labels-idx1-ubyte",
    role: "labels",
    split: "train",
    sha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
  },
  {
    name: "t10k-images-idx3-ubyte",
    role: "images",
    split: "t10k",
    sha256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
  },
  {
    name: "t10k-labels-idx1-ubyte",
    role: "labels",
    split: "t10k",
    sha256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
  },
];

/** Where Debian's `dataset-fashion-mnist` package installs the `.gz` files. */
export const DEBIAN_MIRROR = "/usr/share/datasets/fashion-mnist";

/**
 * Default sources, tried in order: the dataset's official locations (the Zalando Research
 * repository and its S3 bucket), then the Debian package's directory.
 */
export const DEFAULT_SOURCES: readonly string[] = [
  "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion",
  "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com",
  DEBIAN_MIRROR,
];
