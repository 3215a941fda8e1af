using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace SegServe.Inference.Scheduling;

/// <summary>
/// One request's share of a batch's main output: copied out of the batch into a pooled buffer, so that the batch's
/// ONNX Runtime memory can be released at once and each request decodes its own slice in parallel — or, for a batch
/// of one, ONNX Runtime's own output, held until the request is done (no copy). Dispose when done.
/// </summary>
public sealed class ModelOutput : IDisposable
{
    private byte[]? _buffer;
    private readonly int _byteLength;
    private IDisposable? _owner;
    private readonly OrtValue? _value;

    private ModelOutput(TensorElementType elementType, long[] shape, byte[] buffer, int byteLength)
    {
        ElementType = elementType;
        Shape = shape;
        _buffer = buffer;
        _byteLength = byteLength;
    }

    private ModelOutput(TensorElementType elementType, long[] shape, IDisposable owner, OrtValue value)
    {
        ElementType = elementType;
        Shape = shape;
        _owner = owner;
        _value = value;
    }

    /// <summary>
    /// Every output of the run, for a batch of one (multi-output models: instance segmentation); the main output alone
    /// otherwise. Valid until the output is disposed.
    /// </summary>
    public IReadOnlyList<OrtValue> Values => _owner as IReadOnlyList<OrtValue> ?? (_value is null ? [] : [_value]);

    /// <summary><c>Float</c>, <c>Int64</c> or <c>Int32</c>.</summary>
    public TensorElementType ElementType { get; }

    /// <summary>This request's shape: the model's output shape with a batch of 1.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>How many requests shared the model run.</summary>
    public int BatchSize { get; internal set; } = 1;

    /// <summary>Time from entering the queue to the start of the run.</summary>
    public TimeSpan QueueWait { get; internal set; }

    /// <summary>Duration of the model run (the whole batch).</summary>
    public TimeSpan RunTime { get; internal set; }

    /// <summary>When the model run started (by the queue's clock).</summary>
    public DateTimeOffset RunStartedAt { get; internal set; }

    /// <summary>The span of the model run, while it is traced; default otherwise.</summary>
    public ActivityContext BatchActivity { get; internal set; }

    /// <summary>The values, viewed as <typeparamref name="T"/> (which must match <see cref="ElementType"/>).</summary>
    public ReadOnlySpan<T> Data<T>()
        where T : unmanaged
    {
        if (_value is not null)
        {
            ObjectDisposedException.ThrowIf(_owner is null, this);
            return _value.GetTensorDataAsSpan<T>();
        }

        ObjectDisposedException.ThrowIf(_buffer is null, this);
        return MemoryMarshal.Cast<byte, T>(_buffer.AsSpan(0, _byteLength));
    }

    /// <summary>Wraps ONNX Runtime's output of a batch of one without copying; disposing it releases <paramref name="owner"/>.</summary>
    public static ModelOutput Wrap(IDisposable owner, OrtValue value, long[] shape)
    {
        ArgumentNullException.ThrowIfNull(owner);
        ArgumentNullException.ThrowIfNull(value);
        return new ModelOutput(value.GetTensorTypeAndShape().ElementDataType, shape, owner, value);
    }

    /// <summary>Copies <paramref name="values"/> into a new pooled output.</summary>
    public static ModelOutput Copy<T>(ReadOnlySpan<T> values, TensorElementType elementType, long[] shape)
        where T : unmanaged
    {
        ReadOnlySpan<byte> bytes = MemoryMarshal.AsBytes(values);
        byte[] buffer = Memory.BufferPool.Rent<byte>(bytes.Length);
        bytes.CopyTo(buffer);
        return new ModelOutput(elementType, shape, buffer, bytes.Length);
    }

    public void Dispose()
    {
        Interlocked.Exchange(ref _owner, null)?.Dispose();
        byte[]? buffer = Interlocked.Exchange(ref _buffer, null);
        if (buffer is not null)
        {
            Memory.BufferPool.Return(buffer);
        }
    }
}
