using BenchmarkDotNet.Attributes;
using Microsoft.ML.OnnxRuntime;
using SegServe.Inference.Instances;
using SegServe.Inference.Masks;
using SegServe.Inference.Preprocessing;

namespace SegServe.Benchmarks;

/// <summary>
/// 100 detectron2-style instances (28×28 RoI masks, boxes of 40–800 px) on a 4000×3000 photo: paste every mask into
/// the photo and encode it as COCO RLE, one object at a time from its box — against materialising each mask as a
/// full-resolution byte mask first (the naive way, 12 MB per object), in the same run. Allocations show the memory.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(StageConfig))]
public class InstanceBenchmarks
{
    private const int Width = 4000;
    private const int Height = 3000;
    private const int Count = 100;
    private const int Size = 28;
    private float[] _boxes = [];
    private float[] _masks = [];
    private OrtValue[] _outputs = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(7);
        _boxes = new float[Count * 4];
        _masks = new float[Count * Size * Size];
        for (int k = 0; k < Count; k++)
        {
            float w = 40 + (random.NextSingle() * 760), h = 40 + (random.NextSingle() * 760);
            float x = random.NextSingle() * (Width - w), y = random.NextSingle() * (Height - h);

            // Boxes in the input frame of a 1333×1000 tensor (shorter side 1000 of 3000): scaled ×3 back.
            _boxes[(k * 4) + 0] = x / 3;
            _boxes[(k * 4) + 1] = y / 3;
            _boxes[(k * 4) + 2] = (x + w) / 3;
            _boxes[(k * 4) + 3] = (y + h) / 3;
            for (int i = 0; i < Size * Size; i++)
            {
                int cx = i % Size, cy = i / Size;
                double d = Math.Sqrt(((cx - 13.5) * (cx - 13.5)) + ((cy - 13.5) * (cy - 13.5)));
                _masks[(k * Size * Size) + i] = (float)(1 / (1 + Math.Exp(d - 10 + random.NextDouble())));
            }
        }

        long[] classes = new long[Count];
        float[] scores = new float[Count];
        for (int k = 0; k < Count; k++)
        {
            scores[k] = 1f - (k * 0.005f);
        }

        _outputs =
        [
            OrtValue.CreateTensorValueFromMemory(_boxes, [Count, 4]),
            OrtValue.CreateTensorValueFromMemory(classes, [Count]),
            OrtValue.CreateTensorValueFromMemory(_masks, [Count, 1, Size, Size]),
            OrtValue.CreateTensorValueFromMemory(scores, [Count]),
            OrtValue.CreateTensorValueFromMemory(new long[] { 1000, 1333 }, [2]),
        ];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (OrtValue value in _outputs)
        {
            value.Dispose();
        }
    }

    [Benchmark(Baseline = true, Description = "naive: full-size byte mask per object, then RLE")]
    public long FullMasks()
    {
        long area = 0;
        byte[] full = new byte[Width * Height];
        for (int k = 0; k < Count; k++)
        {
            // What a decoder without box crops does: a whole-image mask per object (reused here, so this is its best case).
            Array.Clear(full);
            CocoRle pasted = RoiMaskPaster.Paste(_masks.AsSpan(k * Size * Size, Size * Size), Size, _boxes[k * 4] * 3, _boxes[(k * 4) + 1] * 3, _boxes[(k * 4) + 2] * 3, _boxes[(k * 4) + 3] * 3, Width, Height, 0.5f);
            byte[] decoded = pasted.Decode();
            decoded.CopyTo(full, 0);
            area += CocoRle.Encode(full, Height, Width).Area;
        }

        return area;
    }

    [Benchmark(Description = "service: paste + RLE from each box (InstanceDecoder, 100 objects)")]
    public long FromBoxes()
    {
        var geometry = new InputGeometry(Width, Height, 1333, 1000, 0, 0, 1333, 1000);
        List<DetectedObject> objects = InstanceDecoder.Decode(InstanceFamily.Detectron2, _outputs, geometry, 80, new InstanceOptions(0f, 0.5f, 1000, null));
        long area = 0;
        foreach (DetectedObject o in objects)
        {
            area += o.Mask.Area;
        }

        return area;
    }
}
