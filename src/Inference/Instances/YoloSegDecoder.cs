using System.Buffers;
using Microsoft.ML.OnnxRuntime;
using SegServe.Inference.Decoding;
using SegServe.Inference.Geometry;
using SegServe.Inference.Masks;
using SegServe.Inference.Models;
using SegServe.Inference.Preprocessing;

namespace SegServe.Inference.Instances;

/// <summary>
/// Ultralytics YOLOv8/YOLO11-seg outputs: <c>output0</c> <c>[1, 4 + nc + 32, A]</c> (centre-size boxes in letterboxed
/// input pixels, class scores already sigmoid-ed, 32 mask coefficients) with confidence filter and class-aware NMS,
/// or the NMS-free end-to-end <c>[1, N, 6 + 32]</c> (x1, y1, x2, y2, score, class); <c>output1</c> the prototypes
/// <c>[1, 32, mh, mw]</c>. Masks by Ultralytics' native-resolution path (<c>process_mask_native</c>): boxes mapped
/// back to the photo, the prototype region that excludes the letterbox padding upsampled bilinearly to the photo,
/// cropped to the box, logit &gt; 0 — computed for the box's pixels only.
/// </summary>
public static class YoloSegDecoder
{
    private const int Coefficients = 32;

    /// <summary>IoU above which NMS drops the lower-scored box of the same class (Ultralytics' default).</summary>
    public const float NmsIou = 0.7f;

    /// <summary>Candidates kept before NMS (Ultralytics' <c>max_nms</c>).</summary>
    private const int MaxNms = 30_000;

    public static List<DetectedObject> Decode(IReadOnlyList<OrtValue> outputs, InputGeometry geometry, int classCount, InstanceOptions options)
    {
        ArgumentNullException.ThrowIfNull(outputs);
        ArgumentNullException.ThrowIfNull(options);
        long[] shape0 = outputs[0].GetTensorTypeAndShape().Shape;
        long[] shape1 = outputs[1].GetTensorTypeAndShape().Shape;
        if (shape0.Length != 3 || shape1.Length != 4 || shape1[1] != Coefficients)
        {
            throw new ModelOutputException($"YOLO-seg outputs are [{string.Join(',', shape0)}] and [{string.Join(',', shape1)}]; expected [1,4+nc+32,A] (or [1,N,38]) and [1,32,mh,mw].");
        }

        ReadOnlySpan<float> head = outputs[0].GetTensorDataAsSpan<float>();
        bool endToEnd = shape0[2] == 6 + Coefficients && shape0[1] != 4 + classCount + Coefficients;
        List<Candidate> candidates = endToEnd
            ? EndToEnd(head, (int)shape0[1], classCount, options)
            : WithNms(head, (int)shape0[1], (int)shape0[2], classCount, options);

        // Each kept object's 32 mask coefficients, read from the head.
        var coefficients = new float[candidates.Count * Coefficients];
        for (int i = 0; i < candidates.Count; i++)
        {
            for (int k = 0; k < Coefficients; k++)
            {
                coefficients[(i * Coefficients) + k] = endToEnd
                    ? head[(candidates[i].Anchor * (6 + Coefficients)) + 6 + k]
                    : head[((4 + classCount + k) * (int)shape0[2]) + candidates[i].Anchor];
            }
        }

        int maskHeight = (int)shape1[2];
        int maskWidth = (int)shape1[3];
        ReadOnlySpan<float> prototypes = outputs[1].GetTensorDataAsSpan<float>();
        return Masks(candidates, coefficients, prototypes, maskHeight, maskWidth, geometry);
    }

    private readonly record struct Candidate(float X1, float Y1, float X2, float Y2, float Score, int ClassId, int Anchor);

    /// <summary>Channel-major head: best class per anchor, confidence filter, class-aware NMS.</summary>
    private static List<Candidate> WithNms(ReadOnlySpan<float> head, int channels, int anchors, int classCount, InstanceOptions options)
    {
        if (channels != 4 + classCount + Coefficients)
        {
            throw new ModelOutputException($"output0 has {channels} channels; with {classCount} classes the model should give 4 + {classCount} + 32 = {4 + classCount + Coefficients}.");
        }

        var candidates = new List<Candidate>();
        for (int a = 0; a < anchors; a++)
        {
            int best = 0;
            float score = float.NegativeInfinity;
            for (int c = 0; c < classCount; c++)
            {
                float s = head[((4 + c) * anchors) + a];
                if (s > score)
                {
                    score = s;
                    best = c;
                }
            }

            if (!(score > options.ScoreThreshold) || (options.Classes is not null && !options.Classes.Contains(best)))
            {
                continue;
            }

            float cx = head[a], cy = head[anchors + a], w = head[(2 * anchors) + a], h = head[(3 * anchors) + a];
            candidates.Add(new Candidate(cx - (w / 2), cy - (h / 2), cx + (w / 2), cy + (h / 2), score, best, a));
        }

        candidates.Sort((x, y) => y.Score.CompareTo(x.Score));
        if (candidates.Count > MaxNms)
        {
            candidates.RemoveRange(MaxNms, candidates.Count - MaxNms);
        }

        // Greedy NMS within each class (Ultralytics offsets boxes by class; the effect is the same).
        var kept = new List<Candidate>();
        var suppressed = new bool[candidates.Count];
        for (int i = 0; i < candidates.Count && kept.Count < options.MaxInstances; i++)
        {
            if (suppressed[i])
            {
                continue;
            }

            Candidate keep = candidates[i];
            kept.Add(keep);
            for (int j = i + 1; j < candidates.Count; j++)
            {
                if (!suppressed[j] && candidates[j].ClassId == keep.ClassId && Iou(keep, candidates[j]) > NmsIou)
                {
                    suppressed[j] = true;
                }
            }
        }

        return kept;
    }

    /// <summary>End-to-end head (exported with <c>nms=True</c>, or NMS-free models): rows already final, by score.</summary>
    private static List<Candidate> EndToEnd(ReadOnlySpan<float> head, int rows, int classCount, InstanceOptions options)
    {
        var kept = new List<Candidate>();
        const int Stride = 6 + Coefficients;
        for (int r = 0; r < rows && kept.Count < options.MaxInstances; r++)
        {
            ReadOnlySpan<float> row = head.Slice(r * Stride, Stride);
            int classId = (int)row[5];
            if (!(row[4] > options.ScoreThreshold) || (options.Classes is not null && !options.Classes.Contains(classId)))
            {
                continue;
            }

            if ((uint)classId >= (uint)classCount)
            {
                throw new ModelOutputException($"The model produced class {classId}, outside 0–{classCount - 1} of the manifest's classes.");
            }

            kept.Add(new Candidate(row[0], row[1], row[2], row[3], row[4], classId, r));
        }

        return kept;
    }

    private static float Iou(Candidate a, Candidate b)
    {
        float ix = MathF.Max(0, MathF.Min(a.X2, b.X2) - MathF.Max(a.X1, b.X1));
        float iy = MathF.Max(0, MathF.Min(a.Y2, b.Y2) - MathF.Max(a.Y1, b.Y1));
        float intersection = ix * iy;
        float union = ((a.X2 - a.X1) * (a.Y2 - a.Y1)) + ((b.X2 - b.X1) * (b.Y2 - b.Y1)) - intersection;
        return union <= 0 ? 0 : intersection / union;
    }

    /// <summary>process_mask_native, one object at a time, for the pixels of its box only.</summary>
    private static List<DetectedObject> Masks(List<Candidate> candidates, float[] coefficients, ReadOnlySpan<float> prototypes, int maskHeight, int maskWidth, InputGeometry geometry)
    {
        var objects = new List<DetectedObject>(candidates.Count);
        if (candidates.Count == 0)
        {
            return objects;
        }

        int width = geometry.OriginalWidth;
        int height = geometry.OriginalHeight;

        // scale_boxes: undo the letterbox (Ultralytics rounds the pad as LetterBox did).
        double gain = Math.Min((double)geometry.InputHeight / height, (double)geometry.InputWidth / width);
        double padX = Math.Round(((geometry.InputWidth - (width * gain)) / 2) - 0.1, MidpointRounding.ToEven);
        double padY = Math.Round(((geometry.InputHeight - (height * gain)) / 2) - 0.1, MidpointRounding.ToEven);

        // scale_masks: the prototype window that excludes the padding, resized to the photo.
        double g = Math.Min((double)maskHeight / height, (double)maskWidth / width);
        double pw = (maskWidth - (width * g)) / 2;
        double ph = (maskHeight - (height * g)) / 2;
        int top = (int)Math.Round(ph - 0.1, MidpointRounding.ToEven);
        int bottom = maskHeight - (int)Math.Round(ph + 0.1, MidpointRounding.ToEven);
        int left = (int)Math.Round(pw - 0.1, MidpointRounding.ToEven);
        int right = maskWidth - (int)Math.Round(pw + 0.1, MidpointRounding.ToEven);
        using AxisSampling xs = AxisSampling.Create(Interpolation.Bilinear, maskWidth, left, right - left, width);
        using AxisSampling ys = AxisSampling.Create(Interpolation.Bilinear, maskHeight, top, bottom - top, height);

        int plane = maskHeight * maskWidth;
        float[] logits = ArrayPool<float>.Shared.Rent(plane);
        try
        {
            ReadOnlySpan<int> xIndex = xs.Indices;
            ReadOnlySpan<float> xWeight = xs.Weights;
            ReadOnlySpan<int> yIndex = ys.Indices;
            ReadOnlySpan<float> yWeight = ys.Weights;
            for (int n = 0; n < candidates.Count; n++)
            {
                Candidate c = candidates[n];
                float x1 = (float)Math.Clamp((c.X1 - padX) / gain, 0, width);
                float y1 = (float)Math.Clamp((c.Y1 - padY) / gain, 0, height);
                float x2 = (float)Math.Clamp((c.X2 - padX) / gain, 0, width);
                float y2 = (float)Math.Clamp((c.Y2 - padY) / gain, 0, height);

                // coeffs · prototypes over the whole prototype map (32 × mh·mw multiply-adds).
                Span<float> map = logits.AsSpan(0, plane);
                map.Clear();
                for (int k = 0; k < Coefficients; k++)
                {
                    float coefficient = coefficients[(n * Coefficients) + k];
                    System.Numerics.Tensors.TensorPrimitives.MultiplyAdd(prototypes.Slice(k * plane, plane), coefficient, map, map);
                }

                // crop_mask keeps pixels with x1 ≤ col < x2 and y1 ≤ row < y2 (pixel indices, not centres).
                int colStart = Math.Clamp((int)MathF.Ceiling(x1), 0, width);
                int colEnd = Math.Clamp((int)MathF.Ceiling(x2), 0, width);
                int rowStart = Math.Clamp((int)MathF.Ceiling(y1), 0, height);
                int rowEnd = Math.Clamp((int)MathF.Ceiling(y2), 0, height);
                var runs = new RleBuilder(height, width);
                for (int x = colStart; x < colEnd; x++)
                {
                    int i0 = xIndex[2 * x], i1 = xIndex[(2 * x) + 1];
                    float w0 = xWeight[2 * x], w1 = xWeight[(2 * x) + 1];
                    for (int y = rowStart; y < rowEnd; y++)
                    {
                        int r0 = yIndex[2 * y] * maskWidth, r1 = yIndex[(2 * y) + 1] * maskWidth;
                        float v0 = yWeight[2 * y], v1 = yWeight[(2 * y) + 1];
                        float value = (v0 * ((w0 * map[r0 + i0]) + (w1 * map[r0 + i1]))) + (v1 * ((w0 * map[r1 + i0]) + (w1 * map[r1 + i1])));
                        if (value > 0f)
                        {
                            runs.Set(((long)x * height) + y);
                        }
                    }
                }

                CocoRle mask = runs.Build();
                if (mask.Area > 0)
                {
                    objects.Add(new DetectedObject(c.ClassId, c.Score, x1, y1, x2, y2, mask));
                }
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(logits);
        }

        return objects;
    }
}
