using SegServe.Inference.Memory;

namespace SegServe.Inference.Decoding;

/// <summary>
/// A class index per pixel at the original image size, with the optional confidence of each pixel's class (0–255 for
/// probability 0–1) and the pixel count of every class. The maps are pooled planes: dispose the map when done.
/// </summary>
public sealed class ClassMap : IDisposable
{
    public ClassMap(int width, int height, int classCount, bool withConfidence)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        Classes = new Plane<ushort>(width, height);
        try
        {
            Confidence = withConfidence ? new Plane<byte>(width, height) : null;
        }
        catch
        {
            Classes.Dispose();
            throw;
        }

        ClassCount = classCount;
        PixelCounts = new long[classCount];
    }

    public int Width => Classes.Width;

    public int Height => Classes.Height;

    /// <summary>Number of classes the model predicts (not only those present).</summary>
    public int ClassCount { get; }

    /// <summary>Pixels per class id.</summary>
    public long[] PixelCounts { get; }

    /// <summary>Class ids, row-major.</summary>
    public Plane<ushort> Classes { get; }

    /// <summary>Confidence of each pixel's class, 0–255; null when it was not computed.</summary>
    public Plane<byte>? Confidence { get; }

    /// <summary>Recounts <see cref="PixelCounts"/> from the class ids.</summary>
    public void CountPixels()
    {
        Array.Clear(PixelCounts);
        long[] counts = PixelCounts;
        foreach (ushort id in Classes.Span)
        {
            counts[id]++;
        }
    }

    public void Dispose()
    {
        Classes.Dispose();
        Confidence?.Dispose();
    }
}
