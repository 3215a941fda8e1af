using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace SegServe.Benchmarks;

/// <summary>
/// <c>make-images --out DIR</c>: the load test's uploads — the photos in <c>../shared/data/photos</c> (or the
/// repository's example photo) centre-cropped and resized to 512×512, saved as quality-90 JPEGs.
/// </summary>
internal static class BenchmarkImages
{
    public static int Make(string[] args)
    {
        int i = Array.IndexOf(args, "--out");
        string output = i >= 0 && i + 1 < args.Length ? args[i + 1] : throw new ArgumentException("--out DIR is required");
        Directory.CreateDirectory(output);
        string shared = Path.Combine(BenchmarkData.RepositoryRoot, "..", "shared", "data", "photos");
        string[] photos = Directory.Exists(shared)
            ? Directory.GetFiles(shared)
            : [Path.Combine(BenchmarkData.RepositoryRoot, "docs", "examples", "camera.png"), Path.Combine(BenchmarkData.RepositoryRoot, "docs", "examples", "astronaut.jpg")];
        Array.Sort(photos, StringComparer.Ordinal);
        var encoder = new JpegEncoder { Quality = 90, ColorType = JpegColorType.YCbCrRatio420 };
        foreach (string photo in photos)
        {
            using Image<Rgb24> image = Image.Load<Rgb24>(photo);
            image.Mutate(c => c.Resize(new ResizeOptions { Size = new Size(512, 512), Mode = ResizeMode.Crop }));
            string path = Path.Combine(output, Path.GetFileNameWithoutExtension(photo) + ".jpg");
            image.Save(path, encoder);
            Console.WriteLine(path);
        }

        return 0;
    }
}
