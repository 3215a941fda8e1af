using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.PixelFormats;

namespace SegServe.Benchmarks;

/// <summary>Locates the repository and builds the inputs the benchmarks share.</summary>
internal static class BenchmarkData
{
    /// <summary>The repository root (the folder holding SegServe.slnx).</summary>
    public static string RepositoryRoot { get; } = FindRoot();

    /// <summary>A 512×512 photo as a quality-90 JPEG: the upload the performance notes measure.</summary>
    public static byte[] Jpeg512()
    {
        string shared = Path.Combine(RepositoryRoot, "..", "shared", "data", "photos", "astronaut.png");
        string photo = File.Exists(shared) ? shared : Path.Combine(RepositoryRoot, "docs", "examples", "camera.png");
        using Image<Rgb24> image = Image.Load<Rgb24>(photo);
        using var stream = new MemoryStream();
        image.Save(stream, new JpegEncoder { Quality = 90, ColorType = JpegColorType.YCbCrRatio420 });
        return stream.ToArray();
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "SegServe.slnx")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Run the benchmarks from inside the repository.");
    }
}
