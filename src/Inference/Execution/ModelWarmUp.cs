using Microsoft.ML.OnnxRuntime;
using SegServe.Inference.Decoding;
using SegServe.Inference.Models;
using SegServe.Inference.Preprocessing;
using SegServe.Inference.Scheduling;

namespace SegServe.Inference.Execution;

/// <summary>
/// Runs an opened model on a blank image before it serves: once to check the real output shape against the manifest
/// (exporters often leave the class dimension symbolic), then at every batch size its queue can form, so that no
/// request pays for a first run's allocations (or, on CUDA, for cuDNN's algorithm search at a new shape).
/// </summary>
public static class ModelWarmUp
{
    /// <summary>Warms <paramref name="model"/> up, reporting progress on it; a failing run fails the model with the reason.</summary>
    public static async Task RunAsync(SegmentationModel model, IModelLoadObserver? observer, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Status != ModelStatus.Loading || model.Session is not ModelSession session)
        {
            return;
        }

        int maxBatchSize = model.Batching!.MaxBatchSize;
        int total = maxBatchSize + 1;
        int batchSize = 1;
        try
        {
            model.ReportWarmUp(0, total);
            InputGeometry geometry = model.Preprocessor!.Plan(64, 48);
            var tensor = new float[ImagePreprocessor.TensorLength(geometry)];
            if (observer is not null)
            {
                await observer.BeforeWarmUpRunAsync(model, 1, cancellationToken).ConfigureAwait(false);
            }

            using (IDisposableReadOnlyCollection<OrtValue> outputs = session.Run(tensor, model.InputShape(geometry, 1)))
            {
                if (model.InstanceFamily is null)
                {
                    SignatureCheck.CheckRuntimeOutput(model.Manifest!, outputs[0].GetTensorTypeAndShape());
                }
            }

            model.ReportWarmUp(1, total);
            long[] itemShape = model.InputShape(geometry, 1)[(session.HasBatchAxis ? 1 : 0)..];
            var inputs = new List<ReadOnlyMemory<float>>();
            for (batchSize = 1; batchSize <= maxBatchSize; batchSize++)
            {
                if (observer is not null)
                {
                    await observer.BeforeWarmUpRunAsync(model, batchSize, cancellationToken).ConfigureAwait(false);
                }

                cancellationToken.ThrowIfCancellationRequested();
                inputs.Add(tensor);
                foreach (ModelOutput output in session.RunBatch(inputs, itemShape))
                {
                    output.Dispose();
                }

                model.ReportWarmUp(batchSize + 1, total);
            }
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or ModelLoadException or ModelOutputException)
        {
            model.Fail($"Warm-up run failed (batch size {batchSize}): {ex.Message}");
        }
    }
}
