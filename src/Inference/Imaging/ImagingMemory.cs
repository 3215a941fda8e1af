using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Memory;

namespace SegServe.Inference.Imaging;

/// <summary>
/// How much memory ImageSharp keeps pooled between requests. Its default allocator pools up to an eighth of the
/// machine's memory (3 GiB on 24 GiB) and holds it after a burst of large images, which for a service reads as a leak:
/// every ImageSharp configuration the engine uses (decoding, label maps, resizing and encoding through
/// <see cref="Configuration.Default"/>) shares one allocator with a small pool instead.
/// </summary>
public static class ImagingMemory
{
    public const int DefaultPoolMegabytes = 32;

    private static MemoryAllocator s_shared = Create(DefaultPoolMegabytes);

    /// <summary>The allocator of label maps and of <see cref="Configuration.Default"/>.</summary>
    public static MemoryAllocator Shared => Volatile.Read(ref s_shared);

    /// <summary>Sets the pool size of the shared allocator (and of <see cref="Configuration.Default"/>): once, at start.</summary>
    public static void Configure(int poolMegabytes)
    {
        MemoryAllocator allocator = Create(poolMegabytes);
        Volatile.Write(ref s_shared, allocator);
        Configuration.Default.MemoryAllocator = allocator;
    }

    private static MemoryAllocator Create(int poolMegabytes) =>
        MemoryAllocator.Create(new MemoryAllocatorOptions { MaximumPoolSizeMegabytes = poolMegabytes });
}
