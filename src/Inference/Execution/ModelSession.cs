using System.Buffers;
using System.Runtime.InteropServices;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using SegServe.Inference.Decoding;
using SegServe.Inference.Scheduling;

namespace SegServe.Inference.Execution;

/// <summary>What <see cref="ResilientRunner"/> needs of a session: runs with their own options, and a fresh start.</summary>
public interface IRunSession
{
    /// <summary>Runs a batch; <paramref name="runOptions"/> belong to this run alone (it may be terminated through them).</summary>
    public ModelOutput[] RunBatch(IReadOnlyList<ReadOnlyMemory<float>> inputs, long[] itemShape, RunOptions runOptions);

    /// <summary>Replaces the underlying session by a fresh one; false when it cannot.</summary>
    public bool Recreate();
}

/// <summary>
/// A model's ONNX Runtime session and how batches run on it: created once per model and shared by every request
/// (<see cref="InferenceSession.Run(RunOptions, IReadOnlyCollection{string}, IReadOnlyCollection{OrtValue}, IReadOnlyCollection{string})"/>
/// is thread-safe). A batch of one runs on the request's own tensor and hands back ONNX Runtime's output without a copy;
/// larger batches are copied into one pooled <c>[N, …]</c> tensor and each request's slice of the output copied out.
/// </summary>
public sealed class ModelSession : IBatchRunner, IRunSession, IDisposable
{
    private static readonly RunOptions s_runOptions = new();

    // Runs share the session (read); re-creating it after arena failures waits for them and swaps it (write).
    private readonly ReaderWriterLockSlim _swap = new();
    private readonly Func<InferenceSession>? _reopen;
    private readonly string _model;
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;
    private InferenceSession _session;

    /// <param name="model">The model's name, for messages.</param>
    /// <param name="session">The session; owned (disposed) by this object.</param>
    /// <param name="inputName">The image input fed.</param>
    /// <param name="outputNames">The outputs fetched, the main one first.</param>
    /// <param name="hasBatchAxis">False for graphs that take one <c>[3, H, W]</c> image.</param>
    /// <param name="reopen">Creates a fresh session from the same file and settings, for <see cref="Recreate"/>.</param>
    public ModelSession(string model, InferenceSession session, string inputName, IReadOnlyList<string> outputNames, bool hasBatchAxis, Func<InferenceSession>? reopen = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(outputNames);
        _model = model;
        _session = session;
        _reopen = reopen;
        _inputNames = [inputName];
        _outputNames = [.. outputNames];
        HasBatchAxis = hasBatchAxis;
    }

    /// <summary>False for graphs that take one <c>[3, H, W]</c> image without a batch axis.</summary>
    public bool HasBatchAxis { get; }

    /// <summary>How many times the session has been re-created.</summary>
    public int Recreations { get; private set; }

    /// <summary>Runs the model on one batch; the first result is the main output (the caller disposes the collection).</summary>
    public IDisposableReadOnlyCollection<OrtValue> Run(Memory<float> input, long[] shape) => Run(input, shape, s_runOptions);

    /// <summary>Runs with the caller's run options (one per run, so that one run can be terminated alone).</summary>
    public IDisposableReadOnlyCollection<OrtValue> Run(Memory<float> input, long[] shape, RunOptions runOptions)
    {
        using OrtValue inputValue = OrtValue.CreateTensorValueFromMemory(OrtMemoryInfo.DefaultInstance, input, shape);
        _swap.EnterReadLock();
        try
        {
            return _session.Run(runOptions, _inputNames, [inputValue], _outputNames);
        }
        finally
        {
            _swap.ExitReadLock();
        }
    }

    /// <summary>
    /// Replaces the ONNX Runtime session by a fresh one from the same file, once the runs in progress are done: after
    /// repeated allocation failures, a session's arena can stay fragmented or poisoned, and only a new one recovers.
    /// </summary>
    /// <returns>False when this session cannot be re-created (no reopen function) or the new one could not be made.</returns>
    public bool Recreate()
    {
        if (_reopen is null)
        {
            return false;
        }

        InferenceSession fresh;
        try
        {
            fresh = _reopen();
        }
        catch (OnnxRuntimeException)
        {
            return false;
        }

        InferenceSession old;
        _swap.EnterWriteLock();
        try
        {
            old = _session;
            _session = fresh;
            Recreations++;
        }
        finally
        {
            _swap.ExitWriteLock();
        }

        old.Dispose();
        return true;
    }

    /// <inheritdoc/>
    public ModelOutput[] RunBatch(IReadOnlyList<ReadOnlyMemory<float>> inputs, long[] itemShape) => RunBatch(inputs, itemShape, s_runOptions);

    /// <summary>Runs a batch with the caller's run options (see <see cref="Run(Memory{float}, long[], RunOptions)"/>).</summary>
    public ModelOutput[] RunBatch(IReadOnlyList<ReadOnlyMemory<float>> inputs, long[] itemShape, RunOptions runOptions)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(itemShape);
        int count = inputs.Count;
        if (count < 1 || (!HasBatchAxis && count != 1))
        {
            throw new ArgumentException($"A batch of {count} cannot run on model '{_model}'.", nameof(inputs));
        }

        int perItem = 1;
        foreach (long d in itemShape)
        {
            perItem *= (int)d;
        }

        long[] shape = HasBatchAxis ? [count, .. itemShape] : itemShape;
        if (count == 1)
        {
            // A batch of one (the common case on CPU): the request's own tensor goes in, ONNX Runtime's output comes out.
            if (inputs[0].Length != perItem)
            {
                throw new ArgumentException($"Input 0 holds {inputs[0].Length} values, not {perItem}.", nameof(inputs));
            }

            // ONNX Runtime does not write its inputs, so read-only memory may go in as is.
            IDisposableReadOnlyCollection<OrtValue> single = Run(MemoryMarshal.AsMemory(inputs[0]), shape, runOptions);
            try
            {
                long[] outputShape = single[0].GetTensorTypeAndShape().Shape;
                if (HasBatchAxis && (outputShape.Length == 0 || outputShape[0] != 1))
                {
                    throw new ModelOutputException($"The model's output has shape [{string.Join(',', outputShape)}] for a batch of 1.");
                }

                return [ModelOutput.Wrap(single, single[0], outputShape)];
            }
            catch
            {
                single.Dispose();
                throw;
            }
        }

        // One contiguous [N, …] tensor in a pooled buffer: each request's tensor copied into its slot.
        float[] batch = ArrayPool<float>.Shared.Rent(count * perItem);
        try
        {
            for (int i = 0; i < count; i++)
            {
                ReadOnlySpan<float> input = inputs[i].Span;
                if (input.Length != perItem)
                {
                    throw new ArgumentException($"Input {i} holds {input.Length} values, not {perItem}.", nameof(inputs));
                }

                input.CopyTo(batch.AsSpan(i * perItem, perItem));
            }

            using IDisposableReadOnlyCollection<OrtValue> outputs = Run(batch.AsMemory(0, count * perItem), shape, runOptions);
            return Split(outputs[0], count);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(batch);
        }
    }

    public void Dispose()
    {
        _session.Dispose();
        _swap.Dispose();
    }

    /// <summary>Copies each image's slice of the batch's output into its own pooled buffer.</summary>
    private ModelOutput[] Split(OrtValue output, int count)
    {
        OrtTensorTypeAndShapeInfo info = output.GetTensorTypeAndShape();
        long[] shape = info.Shape;
        if (HasBatchAxis && (shape.Length == 0 || shape[0] != count))
        {
            throw new ModelOutputException($"The model's output has shape [{string.Join(',', shape)}] for a batch of {count}.");
        }

        long[] itemShape = (long[])shape.Clone();
        if (HasBatchAxis)
        {
            itemShape[0] = 1;
        }

        int perItem = (int)(info.ElementCount / count);
        var results = new ModelOutput[count];
        try
        {
            for (int i = 0; i < count; i++)
            {
                results[i] = info.ElementDataType switch
                {
                    TensorElementType.Float => ModelOutput.Copy(output.GetTensorDataAsSpan<float>().Slice(i * perItem, perItem), TensorElementType.Float, itemShape),
                    TensorElementType.Int64 => ModelOutput.Copy(output.GetTensorDataAsSpan<long>().Slice(i * perItem, perItem), TensorElementType.Int64, itemShape),
                    TensorElementType.Int32 => ModelOutput.Copy(output.GetTensorDataAsSpan<int>().Slice(i * perItem, perItem), TensorElementType.Int32, itemShape),
                    _ => throw new ModelOutputException($"The model's output is {info.ElementDataType}; expected float32, int64 or int32."),
                };
            }
        }
        catch
        {
            foreach (ModelOutput? result in results)
            {
                result?.Dispose();
            }

            throw;
        }

        return results;
    }
}
