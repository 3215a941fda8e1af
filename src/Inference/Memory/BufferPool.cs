using System.Buffers;

namespace SegServe.Inference.Memory;

/// <summary>
/// Where the engine's buffers come from: <see cref="ArrayPool{T}.Shared"/> up to <see cref="PooledLimit"/> elements, a
/// fresh array beyond. The shared pool rounds a request up to a power of two and keeps what it is given back, so a 40 MP
/// image's planes would cost up to twice their size and stay held after the request (a burst of large images left the
/// service at its peak memory for good, measured with scripts/hostile.sh); large arrays are instead allocated at their
/// exact size, uninitialised, and left to the GC, whose cost is small next to the work on that many pixels.
/// </summary>
public static class BufferPool
{
    /// <summary>Largest array the shared pool serves (2^20 elements: 1 MiB of bytes, 4 MiB of floats).</summary>
    public const int PooledLimit = 1 << 20;

    /// <summary>An array of at least <paramref name="length"/> elements; its contents are undefined.</summary>
    public static T[] Rent<T>(int length) =>
        length <= PooledLimit ? ArrayPool<T>.Shared.Rent(length) : GC.AllocateUninitializedArray<T>(length);

    /// <summary>Gives back an array from <see cref="Rent{T}"/>: to the pool if it came from there, to the GC otherwise.</summary>
    public static void Return<T>(T[] array)
    {
        ArgumentNullException.ThrowIfNull(array);
        if (array.Length <= PooledLimit)
        {
            ArrayPool<T>.Shared.Return(array);
        }
    }
}
